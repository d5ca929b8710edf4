// The crypto benchmark's baseline, and nothing else: FindingCiphers that
// store the sealed fields as plain packed bytes, so `npm run bench:crypto`
// can measure what encryption costs. It lives in bench/ only: nothing in
// src/ (no config key, flag or option) can select it; bench/crypto-server.ts
// hands it to assembleVault, the building block openVault itself uses.

import type { CipherSource } from '../src/app.js';
import { packFields, unpackFields, type FindingSealer } from '../src/crypto/envelope.js';
import type { FindingCiphers } from '../src/crypto/finding-ciphers.js';

const plaintextSealer: FindingSealer = {
  // The same packing as the encrypted blob: the difference measured is the
  // cipher and the key handling, nothing else.
  seal: (_org, _id, f) => packFields(f),
  sealPacked: (_org, _id, packed) => Buffer.from(packed),
  open: (_org, _id, blob) =>
    unpackFields(Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength)),
  openPacked: (_org, _id, blob) => Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength),
};

/** Loaded by the SQLite import worker (workerSealerModule): ignores the key. */
export function sealerFor(_dek: Uint8Array): FindingSealer {
  return plaintextSealer;
}

// No data key: an empty one stands in (the worker's sealerFor ignores it).
const NO_KEY = Buffer.alloc(0);

const plaintextCiphers: FindingCiphers = {
  forWrite: () => Promise.resolve({ sealer: plaintextSealer, dek: NO_KEY }),
  forRead: () => Promise.resolve(plaintextSealer),
  workerSealerModule: import.meta.url,
};

export function openPlaintextCiphers(): Promise<CipherSource> {
  return Promise.resolve({
    ciphers: () => Promise.resolve(plaintextCiphers),
    close: () => undefined,
  });
}
