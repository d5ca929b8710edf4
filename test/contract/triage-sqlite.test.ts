// The triage contract against the embedded default: SQLite files in a temp
// dir (writer and read-only reader connections, as the server opens them),
// finding content and comments sealed as in production, the feeds imported
// on the writer connection as `vulnvault feeds import` does.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFindingsDb, openFindingsDbReadOnly } from '../../src/adapters/sqlite/database.js';
import { createSqliteDataKeyStore } from '../../src/adapters/sqlite/data-key-store.js';
import { createSqliteFeedStore } from '../../src/adapters/sqlite/feed-store.js';
import { createSqliteFindingsReader } from '../../src/adapters/sqlite/findings-reader.js';
import { createSqliteFindingsWriter } from '../../src/adapters/sqlite/findings-writer.js';
import { createSqliteSlaStore } from '../../src/adapters/sqlite/sla-store.js';
import { createSqliteTriageStore } from '../../src/adapters/sqlite/triage-store.js';
import { WriteLock } from '../../src/adapters/sqlite/write-lock.js';
import { createDataKeys } from '../../src/crypto/data-keys.js';
import { createFindingCiphers } from '../../src/crypto/finding-ciphers.js';
import { createKeyring } from '../../src/crypto/key-admin.js';
import { createLocalKeyProvider } from '../../src/crypto/local-key-provider.js';
import { triageContract } from './triage-contract.js';

triageContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vulnvault-triage-'));
  const file = join(dir, 'findings.db');
  const writerDb = openFindingsDb(file);
  const readerDb = openFindingsDbReadOnly(file);
  const admin = generateKeyPairSync('ed25519');
  const keyring = join(dir, 'keyring.json');
  createKeyring(keyring, admin.privateKey);
  const provider = createLocalKeyProvider({
    file: keyring,
    adminPublicKey: admin.publicKey,
    reloadIntervalMs: 1000,
  });
  const ciphers = createFindingCiphers(
    createDataKeys(provider, createSqliteDataKeyStore(writerDb, undefined, readerDb), {
      maxAgeMs: 60_000,
    }),
  );
  const lock = new WriteLock();
  const writer = createSqliteFindingsWriter(writerDb, { ciphers, lock });
  return Promise.resolve({
    reader: createSqliteFindingsReader(readerDb, ciphers),
    writer,
    triage: createSqliteTriageStore(writerDb, { ciphers, lock }),
    sla: createSqliteSlaStore(writerDb, { lock }),
    feeds: createSqliteFeedStore(writerDb),
    async close() {
      await writer.close();
      provider.close();
      readerDb.close();
      writerDb.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
});
