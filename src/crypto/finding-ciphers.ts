// What a store adapter asks for to seal and open findings: a FindingSealer
// per org, built from the org's cached data key (one per key, reused).
// `forWrite` also hands out the raw key, for a worker thread that seals on
// its own (the SQLite scan import). There is no unencrypted variant in src/:
// every FindingCiphers the server builds comes from createFindingCiphers.

import type { DataKeys } from './data-keys.js';
import { findingSealer, type FindingSealer } from './envelope.js';

export interface FindingCiphers {
  forWrite(org: string): Promise<{ sealer: FindingSealer; dek: Buffer }>;
  /** undefined when the org never had a data key (so it has no sealed rows). */
  forRead(org: string): Promise<FindingSealer | undefined>;
  /**
   * A module (file URL) a worker thread imports to build its sealer from
   * `dek`, through its `sealerFor(dek)` export. Unset — as for every
   * FindingCiphers in src/ — the worker seals with envelope.ts's
   * findingSealer(dek). Only the crypto benchmark sets it (bench/).
   */
  workerSealerModule?: string;
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
