// Heads: where a log stood at some moment, (log, seq, hash), one JSON object
// per line. The server's heads are its signed checkpoints, sent to anchors
// outside the data directory (heads.json, anchor.jsonl, syslog); the heads
// `vulnvault audit anchor` exports carry no signature (the file's worth is
// where the operator keeps it). A head only ever constrains a log: the log
// must still hold record `seq` with that hash.

import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { checkpointValid, type Checkpoint } from './checkpoint.js';
import { readSmallLogLines, type LogLine } from './log-lines.js';

export interface Head {
  log: string;
  seq: number;
  hash: string;
  time?: string;
  sig?: string;
}

export interface HeadLines {
  heads: { head: Head; line: number }[];
  /** Line numbers that are not a head (a crash can tear the last append). */
  unreadable: number[];
}

function asHead(v: unknown): Head | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const h = v as Record<string, unknown>;
  if (typeof h.log !== 'string' || h.log === '') return undefined;
  if (typeof h.seq !== 'number' || !Number.isSafeInteger(h.seq) || h.seq < 1) return undefined;
  if (typeof h.hash !== 'string' || !/^[0-9a-f]{64}$/.test(h.hash)) return undefined;
  if (h.time !== undefined && typeof h.time !== 'string') return undefined;
  if (h.sig !== undefined && typeof h.sig !== 'string') return undefined;
  return h as unknown as Head;
}

export function parseHeadLines(lines: Iterable<LogLine>, firstLine = 1): HeadLines {
  const out: HeadLines = { heads: [], unreadable: [] };
  let n = firstLine - 1;
  for (const { text, terminated } of lines) {
    n++;
    if (text.trim() === '') continue;
    let head: Head | undefined;
    try {
      head = terminated ? asHead(JSON.parse(text)) : undefined;
    } catch {
      head = undefined;
    }
    if (head) out.heads.push({ head, line: n });
    else out.unreadable.push(n);
  }
  return out;
}

/** The heads in a file, or undefined when there is no such file. */
export function readHeadFile(file: string): HeadLines | undefined {
  return existsSync(file) ? parseHeadLines(readSmallLogLines(file)) : undefined;
}

/** A head with a signature must verify; one without is taken as the operator's own. */
export function headSignatureValid(head: Head, publicKey: KeyObject): boolean {
  if (head.sig === undefined) return true;
  return checkpointValid(head as Checkpoint, publicKey);
}

export function formatHead(head: Head): string {
  return JSON.stringify(head);
}

/**
 * The heads in the last `maxBytes` of a file (an append-only anchor file
 * grows without bound; its newest heads are at the end).
 */
export function readHeadFileTail(file: string, maxBytes: number): HeadLines | undefined {
  if (!existsSync(file)) return undefined;
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - maxBytes);
    const buf = Buffer.alloc(size - start);
    readSync(fd, buf, 0, buf.length, start);
    let text = buf.toString('utf8');
    // Mid-file, the first line is cut: skip it.
    if (start > 0) text = text.slice(text.indexOf('\n') + 1);
    const parts = text.split('\n');
    const rest = parts.pop() ?? '';
    const lines: LogLine[] = parts.map((t) => ({ text: t, terminated: true }));
    if (rest !== '') lines.push({ text: rest, terminated: false });
    return parseHeadLines(lines);
  } finally {
    closeSync(fd);
  }
}
