// NOT FOR PRODUCTION. The benchmark's baseline: stores the sealed fields as
// plain JSON so `npm run bench:crypto` can measure what encryption costs.
// Reachable only through openVault's internal `benchmarkPlaintext` option
// (bench/crypto-server.ts); no config key or command line flag selects it.

import type { FindingSealer } from './envelope.js';

export const plaintextSealerForBenchmark: FindingSealer = {
  hashSalt: '',
  seal(_org, _id, f) {
    return Buffer.from(JSON.stringify([f.description, f.solution, f.evidence]), 'utf8');
  },
  open(_org, _id, blob) {
    const v = JSON.parse(Buffer.from(blob).toString('utf8')) as [string, string, string];
    return { description: v[0], solution: v[1], evidence: v[2] };
  },
};
