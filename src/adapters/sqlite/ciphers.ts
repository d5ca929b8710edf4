// Finding ciphers over a findings database and the config's key provider, for
// tools that write or read findings outside the server (benchmarks, tests).

import type { Config } from '../../config/config.js';
import { createDataKeys } from '../../crypto/data-keys.js';
import { createFindingCiphers, type FindingCiphers } from '../../crypto/finding-ciphers.js';
import { openKeyProvider } from '../../crypto/key-provider-from-config.js';
import type { Db } from './database.js';
import { createSqliteDataKeyStore } from './data-key-store.js';
import type { WriteLock } from './write-lock.js';

export async function sqliteFindingCiphers(
  config: Config,
  db: Db,
  lock?: WriteLock,
): Promise<FindingCiphers & { close(): void }> {
  const provider = await openKeyProvider(config);
  const keys = createDataKeys(provider, createSqliteDataKeyStore(db, lock), {
    maxAgeMs: config.keys.cacheSeconds * 1000,
  });
  return { ...createFindingCiphers(keys), close: () => provider.close() };
}
