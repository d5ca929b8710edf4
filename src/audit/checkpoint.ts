// Signed checkpoints (LO 1.4/1.5): an Ed25519 signature over (log, seq, hash,
// time) vouches that record `seq` of log `log` hashes to `hash`. The same
// signed object is a log's "head" when it is sent to an anchor outside the
// data directory (src/audit/anchor-*.ts).

import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { LogLine } from './log-lines.js';

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

/**
 * A checkpoint signing key that is not a KeyObject: an Ed25519 key kept in a
 * PKCS#11 token (src/audit/token-signing-key.ts) signs in place.
 */
export interface CheckpointSigner {
  /** Pure Ed25519 over `data`: 64 bytes. */
  sign(data: Buffer): Buffer;
  publicKey: KeyObject;
}

/** The Ed25519 private key in a file (a KeyObject) or a signer in a token. */
export type CheckpointKey = KeyObject | CheckpointSigner;

function isSigner(key: CheckpointKey): key is CheckpointSigner {
  return typeof (key as CheckpointSigner).sign === 'function';
}

export function publicKeyOf(key: CheckpointKey): KeyObject {
  return isSigner(key) ? key.publicKey : createPublicKey(key);
}

export function signCheckpoint(c: Omit<Checkpoint, 'sig'>, key: CheckpointKey): Checkpoint {
  const sig = isSigner(key) ? key.sign(payload(c)) : sign(null, payload(c), key);
  return { ...c, sig: sig.toString('base64') };
}

export function checkpointValid(c: Checkpoint, publicKey: KeyObject): boolean {
  try {
    return verify(null, payload(c), publicKey, Buffer.from(c.sig, 'base64'));
  } catch {
    return false;
  }
}

/**
 * The checkpoints of one log, in order, each signature checked; repeats of
 * the same (seq, hash) collapsed. A string is the first problem found.
 */
export function parseCheckpoints(
  lines: Iterable<LogLine>,
  log: string,
  publicKey: KeyObject,
): Checkpoint[] | string {
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
