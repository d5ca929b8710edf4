// NOT FOR PRODUCTION. The benchmark's baseline: stores the sealed fields as
// plain JSON so `npm run bench:crypto` can measure what encryption costs.
// Reachable only through openVault's internal `benchmarkPlaintext` option
// (bench/crypto-server.ts); no config key or command line flag selects it.

import { packFields, unpackFields, type FindingSealer } from './envelope.js';

export const plaintextSealerForBenchmark: FindingSealer = {
  // The same packing as the encrypted blob: the difference measured is the
  // cipher and the key handling, nothing else.
  seal: (_org, _id, f) => packFields(f),
  sealPacked: (_org, _id, packed) => Buffer.from(packed),
  open: (_org, _id, blob) =>
    unpackFields(Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength)),
  openPacked: (_org, _id, blob) => Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength),
};
