// The store contract against the embedded default: SQLite files in a temp dir,
// finding content sealed as in production (a local keyring signed by a
// key-admin key made here).
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  openFindingsDb,
  openFindingsDbReadOnly,
  openIdempotencyDb,
  openPolicyDb,
  openPolicyDbReadOnly,
} from '../../src/adapters/sqlite/database.js';
import { createSqliteFindingsReader } from '../../src/adapters/sqlite/findings-reader.js';
import { createSqliteFindingsWriter } from '../../src/adapters/sqlite/findings-writer.js';
import { createSqliteIdempotencyStore } from '../../src/adapters/sqlite/idempotency-store.js';
import {
  createSqlitePolicyReader,
  createSqlitePolicyWriter,
} from '../../src/adapters/sqlite/policy-store.js';
import { createSqliteDataKeyStore } from '../../src/adapters/sqlite/data-key-store.js';
import { createDataKeys } from '../../src/crypto/data-keys.js';
import { createFindingCiphers } from '../../src/crypto/finding-ciphers.js';
import { createKeyring } from '../../src/crypto/key-admin.js';
import { createLocalKeyProvider } from '../../src/crypto/local-key-provider.js';
import { storeContract } from './store-contract.js';

storeContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vulnvault-contract-'));
  const findings = join(dir, 'findings.db');
  const writerDb = openFindingsDb(findings);
  const readerDb = openFindingsDbReadOnly(findings);
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
  const writer = createSqliteFindingsWriter(writerDb, { ciphers });
  const idemDb = openIdempotencyDb(join(dir, 'idempotency.db'));
  const policyDb = openPolicyDb(join(dir, 'policies.db'));
  const policyWriter = createSqlitePolicyWriter(policyDb);
  const policyReadDb = openPolicyDbReadOnly(join(dir, 'policies.db'));
  return {
    reader: createSqliteFindingsReader(readerDb, ciphers),
    writer,
    idempotency: createSqliteIdempotencyStore(idemDb),
    policies: createSqlitePolicyReader(policyReadDb),
    grant: async (g) => void policyWriter.grant(g),
    revoke: async (g) => void policyWriter.revoke(g),
    async close() {
      await writer.close();
      provider.close();
      for (const db of [readerDb, writerDb, idemDb, policyReadDb, policyDb]) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
