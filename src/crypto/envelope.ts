// The sealed content of one finding: its sensitive fields packed into one
// blob, encrypted under the org's data key, one AEAD operation per finding.
// The AAD binds the blob to its org and finding id, so a blob copied to
// another row or org fails to open.
//
//   blob  = 0x02 | nonce (24) | ciphertext | tag (16)   XChaCha20-Poly1305 (aead.ts)
//           0x01 | iv (12)    | ciphertext | tag (16)   AES-256-GCM: written before
//                                                      0.2, still opened
//   plain = for description, solution, evidence: u32 byte length | UTF-8,
//           then the same for the scanner analysis' detail when it is not
//           empty (blobs without it open with an empty detail, so findings
//           written before analyses existed compare equal to new packs)
//   aad   = "vulnvault-finding/v1" NUL org NUL id
//
// Data keys themselves are wrapped with AES-256-GCM (wrapKey below).
//
// Store-independent: the SQLite adapter uses it today, a DynamoDB adapter can
// use it as is.

import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { VaultError } from '../core/errors.js';
import { aead, NONCE_BYTES, TAG_BYTES } from './aead.js';

/** The fields of a finding that are stored only as ciphertext. */
export interface SealedFields {
  description: string;
  solution: string;
  evidence: string;
  /** The scanner analysis' free-text detail ('' when none). */
  detail: string;
}

/**
 * What is sealed: the fields above, the detail given as `detail` or inside
 * a finding's `analysis` (so a ScannedFinding packs without a copy).
 */
export interface Sealable {
  description: string;
  solution: string;
  evidence: string;
  detail?: string;
  analysis?: { detail: string } | null;
}

const detailOf = (f: Sealable): string => f.detail ?? f.analysis?.detail ?? '';

export interface FindingSealer {
  seal(org: string, id: string, fields: Sealable): Buffer;
  /** Like seal, for fields already packed with packFields / packBatch. */
  sealPacked(org: string, id: string, packed: Uint8Array): Buffer;
  /** Throws VaultError('key_unavailable') when the blob does not open. */
  open(org: string, id: string, blob: Uint8Array): SealedFields;
  /** Like open, the fields still packed (as packFields makes them). */
  openPacked(org: string, id: string, blob: Uint8Array): Buffer;
}

const VERSION = 1; // AES-256-GCM: wrapped data keys; finding blobs before 0.2
const SEALED_VERSION = 2; // XChaCha20-Poly1305
const IV = 12;
const TAG = 16;
export const DEK_BYTES = 32;

// Nonces are random (192 bits for findings, 96 for key wrapping), drawn in
// bulk: one randomFill per 4096 findings instead of one per finding.
const pool = Buffer.alloc(NONCE_BYTES * 4096);
let poolAt = pool.length;
/** Copies the next n unused random bytes into `out` at `at`; returns that view of `out`. */
function takeRandom(out: Buffer, at: number, n: number): Buffer {
  if (poolAt + n > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  pool.copy(out, at, poolAt, poolAt + n);
  poolAt += n;
  return out.subarray(at, at + n);
}

function nextIv(): Buffer {
  return takeRandom(Buffer.allocUnsafe(IV), 0, IV);
}

/** The sealed fields as length-prefixed UTF-8 (no escaping pass, unlike JSON). */
export function packFields(f: Sealable): Buffer {
  const a = Buffer.byteLength(f.description);
  const b = Buffer.byteLength(f.solution);
  const c = Buffer.byteLength(f.evidence);
  const detail = detailOf(f);
  const d = detail === '' ? -4 : Buffer.byteLength(detail);
  const buf = Buffer.allocUnsafe(16 + a + b + c + d);
  buf.writeUInt32BE(a, 0);
  buf.write(f.description, 4, 'utf8');
  buf.writeUInt32BE(b, 4 + a);
  buf.write(f.solution, 8 + a, 'utf8');
  buf.writeUInt32BE(c, 8 + a + b);
  buf.write(f.evidence, 12 + a + b, 'utf8');
  if (d >= 0) {
    buf.writeUInt32BE(d, 12 + a + b + c);
    buf.write(detail, 16 + a + b + c, 'utf8');
  }
  return buf;
}

/**
 * The sealed fields of a whole batch packed into one buffer of its own (not a
 * pooled slab), so it can be transferred to a worker thread without a copy.
 * Finding i is bytes[ends[i-1] ?? 0, ends[i]). The buffer is allocated for
 * the worst case (3 UTF-8 bytes per UTF-16 unit) instead of measuring every
 * string first: `bytes` is a view of the part written.
 */
export function packBatch(list: readonly Sealable[]): { bytes: Buffer; ends: number[] } {
  let max = 0;
  for (const f of list) {
    max +=
      16 + 3 * (f.description.length + f.solution.length + f.evidence.length + detailOf(f).length);
  }
  const all = Buffer.allocUnsafeSlow(max);
  const ends: number[] = [];
  let at = 0;
  const put = (text: string) => {
    const n = all.write(text, at + 4, 'utf8');
    all.writeUInt32BE(n, at);
    at += 4 + n;
  };
  for (const f of list) {
    put(f.description);
    put(f.solution);
    put(f.evidence);
    const detail = detailOf(f);
    if (detail !== '') put(detail);
    ends.push(at);
  }
  return { bytes: all.subarray(0, at), ends };
}

export function unpackFields(buf: Buffer): SealedFields {
  const field = (at: number): [string, number] => {
    if (at + 4 > buf.length) throw new Error('truncated');
    const end = at + 4 + buf.readUInt32BE(at);
    if (end > buf.length) throw new Error('truncated');
    return [buf.toString('utf8', at + 4, end), end];
  };
  const [description, a] = field(0);
  const [solution, b] = field(a);
  const [evidence, c] = field(b);
  if (c === buf.length) return { description, solution, evidence, detail: '' };
  const [detail, d] = field(c);
  if (d !== buf.length) throw new Error('trailing bytes');
  return { description, solution, evidence, detail };
}

const AAD_PREFIX = 'vulnvault-finding/v1\u0000';
const aadScratch = Buffer.alloc(1024);
const AAD_START = aadScratch.write(AAD_PREFIX, 0, 'utf8');

function aad(org: string, id: string): Buffer {
  return Buffer.from(`${AAD_PREFIX}${org}\u0000${id}`, 'utf8');
}

/**
 * aad(org, id) written into a buffer reused for every finding (sealing is
 * synchronous): one allocation less per finding on the hot path. Valid until
 * the next call.
 */
function aadView(org: string, id: string): Buffer {
  const rest = `${org}\u0000${id}`;
  // At most 3 UTF-8 bytes per UTF-16 unit: beyond that it might not fit.
  if (rest.length * 3 > aadScratch.length - AAD_START) return aad(org, id);
  const n = aadScratch.write(rest, AAD_START, 'utf8');
  return aadScratch.subarray(0, AAD_START + n);
}

/** Same message for every failure: nothing about why a blob did not open. */
function cannotOpen(cause?: unknown): VaultError {
  return new VaultError('key_unavailable', 'the encrypted content of a finding cannot be read', {
    cause,
  });
}

export function findingSealer(dek: Uint8Array): FindingSealer {
  if (dek.length !== DEK_BYTES) throw new Error('a data key must be 32 bytes');
  const key = Buffer.from(dek);
  // Hot path (every finding of every upload): one output buffer, filled in
  // place; no intermediate concatenation.
  const sealPacked = (org: string, id: string, plain: Uint8Array): Buffer => {
    const out = Buffer.allocUnsafe(1 + NONCE_BYTES + plain.length + TAG_BYTES);
    out[0] = SEALED_VERSION;
    const nonce = takeRandom(out, 1, NONCE_BYTES);
    aead.seal(out.subarray(1 + NONCE_BYTES), plain, aadView(org, id), nonce, key);
    return out;
  };
  const openAesGcm = (org: string, id: string, b: Buffer): Buffer => {
    if (b.length < 1 + IV + TAG) throw new Error('truncated');
    const d = createDecipheriv('aes-256-gcm', key, b.subarray(1, 1 + IV));
    d.setAAD(aad(org, id));
    d.setAuthTag(b.subarray(b.length - TAG));
    const body = d.update(b.subarray(1 + IV, b.length - TAG));
    const last = d.final();
    return last.length === 0 ? body : Buffer.concat([body, last]);
  };
  const openXChaCha = (org: string, id: string, b: Buffer): Buffer => {
    if (b.length < 1 + NONCE_BYTES + TAG_BYTES) throw new Error('truncated');
    return aead.open(
      b.subarray(1 + NONCE_BYTES),
      aad(org, id),
      b.subarray(1, 1 + NONCE_BYTES),
      key,
    );
  };
  const openPacked = (org: string, id: string, blob: Uint8Array): Buffer => {
    const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    try {
      if (b[0] === SEALED_VERSION) return openXChaCha(org, id, b);
      if (b[0] === VERSION) return openAesGcm(org, id, b);
    } catch (err) {
      throw cannotOpen(err);
    }
    throw cannotOpen();
  };
  return {
    seal: (org, id, fields) => sealPacked(org, id, packFields(fields)),
    sealPacked,
    open(org, id, blob) {
      const packed = openPacked(org, id, blob);
      try {
        return unpackFields(packed);
      } catch (err) {
        throw cannotOpen(err);
      }
    },
    openPacked,
  };
}

/** AES-256-GCM key wrap of a DEK under a KEK, bound to org and KEK id. */
export function wrapKey(kek: Uint8Array, kekId: string, org: string, dek: Uint8Array): Buffer {
  const iv = nextIv();
  const c = createCipheriv('aes-256-gcm', kek, iv);
  c.setAAD(Buffer.from(`vulnvault-dek/v1\u0000${org}\u0000${kekId}`, 'utf8'));
  const body = Buffer.concat([c.update(dek), c.final()]);
  return Buffer.concat([Buffer.of(VERSION), iv, body, c.getAuthTag()]);
}

export function unwrapKey(
  kek: Uint8Array,
  kekId: string,
  org: string,
  wrapped: Uint8Array,
): Buffer {
  const b = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
  if (b.length !== 1 + IV + DEK_BYTES + TAG || b[0] !== VERSION) {
    throw new Error('not a wrapped data key');
  }
  const d = createDecipheriv('aes-256-gcm', kek, b.subarray(1, 1 + IV));
  d.setAAD(Buffer.from(`vulnvault-dek/v1\u0000${org}\u0000${kekId}`, 'utf8'));
  d.setAuthTag(b.subarray(b.length - TAG));
  return Buffer.concat([d.update(b.subarray(1 + IV, b.length - TAG)), d.final()]);
}
