// The local anchor sink: heads appended to anchor.jsonl and the latest of
// each log kept in heads.json (see anchor-dir.ts). The directory is created
// (0700) and checked writable when the server starts, synchronously, so a
// missing mount or a permission problem stops the start instead of leaving
// the logs unanchored; later failures are reported by the publisher.

import { closeSync, mkdirSync, openSync, readSync, fstatSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditError } from './audit-error.js';
import { ANCHOR_FILE, HEADS_FILE } from './anchor-dir.js';
import type { AnchorSink } from './anchor-sink.js';
import type { Checkpoint } from './checkpoint.js';
import { formatHead, readHeadFile, type Head } from './heads.js';

async function appendDurably(file: string, text: string): Promise<void> {
  const fh = await open(file, 'a', 0o600);
  try {
    await fh.writeFile(text);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

async function replaceDurably(dir: string, file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text);
    await fh.datasync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  // The rename itself is durable only once the directory is synced.
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** True when the file is non-empty and does not end with a newline (a torn append). */
function endsTorn(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

export function createFileAnchorSink(dir: string): AnchorSink {
  const anchorFile = join(dir, ANCHOR_FILE);
  const headsFile = join(dir, HEADS_FILE);
  let torn: boolean;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    closeSync(openSync(anchorFile, 'a', 0o600));
    torn = endsTorn(anchorFile);
  } catch (err) {
    throw new AuditError(
      `cannot write the audit anchor directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; create it for the server's user or set audit.anchor.dir`,
    );
  }
  const latest = new Map<string, Head>();
  for (const { head } of readHeadFile(headsFile)?.heads ?? []) {
    const seen = latest.get(head.log);
    if (!seen || head.seq >= seen.seq) latest.set(head.log, head);
  }
  return {
    name: `file ${dir}`,
    async deliver(heads: Checkpoint[]) {
      // A crash can tear the last append; end that line so ours stay whole.
      const lead = torn ? '\n' : '';
      await appendDurably(anchorFile, lead + heads.map((h) => formatHead(h) + '\n').join(''));
      torn = false;
      for (const h of heads) {
        const seen = latest.get(h.log);
        if (!seen || h.seq >= seen.seq) latest.set(h.log, h);
      }
      const text = [...latest.values()].map((h) => formatHead(h) + '\n').join('');
      await replaceDurably(dir, headsFile, text);
    },
    close: () => Promise.resolve(),
  };
}
