// Tamper evidence for the audit logs (LO 1.4/1.5). Every record carries the
// SHA-256 of the previous line (`prev`) and a sequence number (`seq`), so an
// edited, deleted, inserted or reordered record breaks the chain. Ed25519
// signed checkpoints, kept in a separate file, vouch for (seq, hash) pairs:
// they catch a rewrite of the chain's tail and a truncation of the log.
//
//   log:          {seq:1,prev:0…0,…} {seq:2,prev:H1,…} … {seq:n,prev:Hn-1,…}
//   checkpoints:  {log,seq:k,hash:Hk,time,sig:Ed25519(payload)}
//
// A record torn by a crash (no final newline) is sealed on the next start by
// a `torn-record-sealed` record that names the torn bytes' hash; verify
// accepts a torn line only when such a seal follows it.

import { createHash, type KeyObject } from 'node:crypto';
import { parseCheckpoints } from './checkpoint.js';
import type { LogLine } from './log-lines.js';

export const GENESIS = '0'.repeat(64);

export function hashLine(line: string): string {
  return createHash('sha256').update(line, 'utf8').digest('hex');
}

/** One record as written: sequence and chain fields first, then the body. */
export function formatRecord(seq: number, prev: string, body: Record<string, unknown>): string {
  if (Object.hasOwn(body, 'seq') || Object.hasOwn(body, 'prev')) {
    const { seq: _s, prev: _p, ...rest } = body;
    return JSON.stringify({ seq, prev, ...rest });
  }
  // The access log formats one record per request: splice the chain fields
  // into the body's JSON instead of copying the object (verify hashes the
  // line as written, never a re-formatting of it).
  const json = JSON.stringify(body);
  const head = `{"seq":${seq},"prev":${JSON.stringify(prev)}`;
  return json === '{}' ? `${head}}` : `${head},${json.slice(1)}`;
}

export type VerifyResult =
  | {
      ok: true;
      records: number;
      checkpoints: number;
      lastCheckpointSeq: number;
      sealed: number;
      /** Hash of each record asked for in `hashesOf` that the log holds. */
      hashes: Map<number, string>;
      /** Hash of the last record (GENESIS for an empty log): the log's head. */
      lastHash: string;
    }
  | { ok: false; error: string };

/**
 * Verifies one chained log against its signed checkpoints. `hashesOf` names
 * sequence numbers whose record hashes the caller needs (to compare them
 * with heads anchored outside the data directory: src/audit/anchor-check.ts).
 */
export async function verifyChain(
  log: string,
  lines: AsyncIterable<LogLine>,
  checkpointLines: Iterable<LogLine>,
  publicKey: KeyObject,
  hashesOf: ReadonlySet<number> = new Set(),
): Promise<VerifyResult> {
  const cps = parseCheckpoints(checkpointLines, log, publicKey);
  if (typeof cps === 'string') return { ok: false, error: cps };
  const bySeq = new Map(cps.map((c) => [c.seq, c]));

  let expected = 1;
  let prev = GENESIS;
  let lineNo = 0;
  let sealed = 0;
  let torn: { hash: string; lineNo: number } | undefined;
  const hashes = new Map<number, string>();
  for await (const { text, terminated } of lines) {
    lineNo++;
    if (!terminated) {
      return {
        ok: false,
        error: `line ${lineNo}: torn record at the end of the log, not sealed yet (the server seals it when it starts)`,
      };
    }
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(text) as Record<string, unknown>;
      if (r === null || typeof r !== 'object') throw new Error('not an object');
    } catch {
      if (torn) return { ok: false, error: `line ${torn.lineNo}: unreadable record` };
      torn = { hash: hashLine(text), lineNo };
      continue;
    }
    if (torn) {
      if (r.event !== 'torn-record-sealed' || r.tornHash !== torn.hash) {
        return { ok: false, error: `line ${torn.lineNo}: unreadable record` };
      }
      torn = undefined;
      sealed++;
    }
    if (r.seq !== expected) {
      return {
        ok: false,
        error: `line ${lineNo}: expected seq ${expected}, found ${JSON.stringify(r.seq)} (a record was deleted, inserted or reordered)`,
      };
    }
    if (r.prev !== prev) {
      return {
        ok: false,
        error: `line ${lineNo} (seq ${expected}): hash chain broken (the record before it was changed, removed or reordered)`,
      };
    }
    const h = hashLine(text);
    const cp = bySeq.get(expected);
    if (cp && cp.hash !== h) {
      return {
        ok: false,
        error: `line ${lineNo} (seq ${expected}): does not match its signed checkpoint (the record was changed)`,
      };
    }
    if (hashesOf.has(expected)) hashes.set(expected, h);
    prev = h;
    expected++;
  }
  if (torn) return { ok: false, error: `line ${torn.lineNo}: unreadable record` };
  const last = expected - 1;
  const top = cps.at(-1);
  if (top && top.seq > last) {
    return {
      ok: false,
      error: `the log ends at seq ${last} but a signed checkpoint vouches for seq ${top.seq} (records were removed from the end)`,
    };
  }
  return {
    ok: true,
    records: last,
    checkpoints: cps.length,
    lastCheckpointSeq: top?.seq ?? 0,
    sealed,
    hashes,
    lastHash: prev,
  };
}
