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

import { createHash, sign, verify, type KeyObject } from 'node:crypto';

export const GENESIS = '0'.repeat(64);

export function hashLine(line: string): string {
  return createHash('sha256').update(line, 'utf8').digest('hex');
}

export interface Checkpoint {
  log: string;
  seq: number;
  hash: string;
  time: string;
  sig: string;
}

function payload(c: Omit<Checkpoint, 'sig'>): Buffer {
  // The log name is signed too, so checkpoints cannot be moved between logs.
  return Buffer.from(`vulnvault-audit-checkpoint/v1\n${c.log}\n${c.seq}\n${c.hash}\n${c.time}`);
}

export function signCheckpoint(c: Omit<Checkpoint, 'sig'>, key: KeyObject): Checkpoint {
  return { ...c, sig: sign(null, payload(c), key).toString('base64') };
}

export function checkpointValid(c: Checkpoint, publicKey: KeyObject): boolean {
  try {
    return verify(null, payload(c), publicKey, Buffer.from(c.sig, 'base64'));
  } catch {
    return false;
  }
}

/** One record as written: sequence and chain fields first, then the body. */
export function formatRecord(seq: number, prev: string, body: Record<string, unknown>): string {
  const { seq: _s, prev: _p, ...rest } = body;
  return JSON.stringify({ seq, prev, ...rest });
}

export interface LogLine {
  text: string;
  /** False only for a final line with no newline after it. */
  terminated: boolean;
}

export type VerifyResult =
  | { ok: true; records: number; checkpoints: number; lastCheckpointSeq: number; sealed: number }
  | { ok: false; error: string };

function parseCheckpoints(lines: Iterable<LogLine>, log: string, publicKey: KeyObject) {
  const cps: Checkpoint[] = [];
  let n = 0;
  for (const { text } of lines) {
    n++;
    if (text === '') continue;
    let c: Checkpoint;
    try {
      c = JSON.parse(text) as Checkpoint;
    } catch {
      return `checkpoint line ${n} is not valid JSON`;
    }
    if (c.log !== log || !checkpointValid(c, publicKey)) {
      return `checkpoint line ${n} (seq ${String(c.seq)}) has an invalid signature`;
    }
    const last = cps.at(-1);
    if (last && c.seq < last.seq) return `checkpoint line ${n} goes backwards (seq ${c.seq})`;
    if (last && c.seq === last.seq) {
      // A restart may repeat the last checkpoint; a different hash for the
      // same seq means the log was rewritten after it was vouched for.
      if (c.hash !== last.hash) {
        return `checkpoint line ${n} disagrees with an earlier checkpoint about seq ${c.seq} (the log was rewritten after it was signed)`;
      }
      continue;
    }
    cps.push(c);
  }
  return cps;
}

/** Verifies one chained log against its signed checkpoints. */
export async function verifyChain(
  log: string,
  lines: AsyncIterable<LogLine>,
  checkpointLines: Iterable<LogLine>,
  publicKey: KeyObject,
): Promise<VerifyResult> {
  const cps = parseCheckpoints(checkpointLines, log, publicKey);
  if (typeof cps === 'string') return { ok: false, error: cps };
  const bySeq = new Map(cps.map((c) => [c.seq, c]));

  let expected = 1;
  let prev = GENESIS;
  let lineNo = 0;
  let sealed = 0;
  let torn: { hash: string; lineNo: number } | undefined;
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
  };
}
