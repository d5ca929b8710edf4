// Per-org data keys: created on an org's first write (32 random bytes,
// wrapped by the KeyProvider, stored by the DataKeyStore), unwrapped on use
// and cached in memory. A cached key is used again only while the provider's
// key state is unchanged (generation) and for at most `maxAgeMs`, so a
// disabled key or an unreachable KMS stops serving within that time: reads
// and writes then fail closed with 503 key_unavailable.

import { randomBytes } from 'node:crypto';
import { VaultError } from '../core/errors.js';
import type { DataKeyStore, KeyProvider } from '../core/keys.js';
import { DEK_BYTES } from './envelope.js';

export interface DataKeys {
  /** The org's DEK, created when it has none yet (write path). */
  forWrite(org: string): Promise<Buffer>;
  /** The org's DEK, or undefined when it has never had one (read path). */
  forRead(org: string): Promise<Buffer | undefined>;
  /** Forget every cached DEK (tests, shutdown). */
  clear(): void;
}

interface Entry {
  dek: Buffer;
  generation: number;
  at: number;
}

export function createDataKeys(
  provider: KeyProvider,
  store: DataKeyStore,
  opts: { maxAgeMs: number; now?: () => number },
): DataKeys {
  const now = opts.now ?? Date.now;
  const cache = new Map<string, Entry>();
  const pending = new Map<string, Promise<Buffer | undefined>>();

  const fresh = (org: string): Buffer | undefined => {
    const e = cache.get(org);
    if (!e) return undefined;
    if (e.generation === provider.generation() && now() - e.at < opts.maxAgeMs) return e.dek;
    cache.delete(org);
    return undefined;
  };

  const load = async (org: string, create: boolean): Promise<Buffer | undefined> => {
    const generation = provider.generation();
    let stored = await storeCall(() => store.get(org));
    if (!stored) {
      if (!create) return undefined;
      const dek = randomBytes(DEK_BYTES);
      const w = await provider.wrap(org, dek);
      stored = await storeCall(() => store.create({ org, ...w }));
    }
    const dek = await provider.unwrap(stored);
    cache.set(org, { dek, generation, at: now() });
    return dek;
  };

  // One unwrap per org at a time, however many requests arrive together.
  const get = (org: string, create: boolean): Promise<Buffer | undefined> => {
    const hit = fresh(org);
    if (hit) return Promise.resolve(hit);
    const k = `${create ? 'w' : 'r'}:${org}`;
    let p = pending.get(k);
    if (!p) {
      p = load(org, create).finally(() => pending.delete(k));
      pending.set(k, p);
    }
    return p;
  };

  return {
    async forWrite(org) {
      return (await get(org, true)) as Buffer;
    },
    forRead(org) {
      return get(org, false);
    },
    clear() {
      cache.clear();
    },
  };
}

async function storeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof VaultError) throw err;
    throw new VaultError('store_unavailable', 'the findings store is unavailable', { cause: err });
  }
}
