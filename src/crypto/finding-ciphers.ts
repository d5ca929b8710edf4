// What a store adapter asks for to seal and open findings: a FindingSealer
// per org, built from the org's cached data key (one per key, reused).
// `forWrite` also hands out the raw key, for a worker thread that seals on
// its own (the SQLite scan import).

import type { DataKeys } from './data-keys.js';
import { findingSealer, type FindingSealer } from './envelope.js';
import { plaintextSealerForBenchmark } from './plaintext-sealer.js';

export interface FindingCiphers {
  forWrite(org: string): Promise<{ sealer: FindingSealer; dek: Buffer | null }>;
  /** undefined when the org never had a data key (so it has no sealed rows). */
  forRead(org: string): Promise<FindingSealer | undefined>;
}

export function createFindingCiphers(keys: DataKeys): FindingCiphers {
  const sealers = new WeakMap<Buffer, FindingSealer>();
  const sealerOf = (dek: Buffer): FindingSealer => {
    let s = sealers.get(dek);
    if (!s) {
      s = findingSealer(dek);
      sealers.set(dek, s);
    }
    return s;
  };
  return {
    async forWrite(org) {
      const dek = await keys.forWrite(org);
      return { sealer: sealerOf(dek), dek };
    },
    async forRead(org) {
      const dek = await keys.forRead(org);
      return dek ? sealerOf(dek) : undefined;
    },
  };
}

/** NOT FOR PRODUCTION: the benchmark's no-encryption baseline (see plaintext-sealer.ts). */
export const plaintextCiphersForBenchmark: FindingCiphers = {
  forWrite: () => Promise.resolve({ sealer: plaintextSealerForBenchmark, dek: null }),
  forRead: () => Promise.resolve(plaintextSealerForBenchmark),
};
