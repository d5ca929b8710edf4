// The store contract against the embedded default: SQLite files in a temp dir.
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
import { storeContract } from './store-contract.js';

storeContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vulnvault-contract-'));
  const findings = join(dir, 'findings.db');
  const writerDb = openFindingsDb(findings);
  const writer = createSqliteFindingsWriter(writerDb);
  const readerDb = openFindingsDbReadOnly(findings);
  const idemDb = openIdempotencyDb(join(dir, 'idempotency.db'));
  const policyDb = openPolicyDb(join(dir, 'policies.db'));
  const policyWriter = createSqlitePolicyWriter(policyDb);
  const policyReadDb = openPolicyDbReadOnly(join(dir, 'policies.db'));
  return {
    reader: createSqliteFindingsReader(readerDb),
    writer,
    idempotency: createSqliteIdempotencyStore(idemDb),
    policies: createSqlitePolicyReader(policyReadDb),
    grant: async (g) => void policyWriter.grant(g),
    revoke: async (g) => void policyWriter.revoke(g),
    async close() {
      await writer.close();
      for (const db of [readerDb, writerDb, idemDb, policyReadDb, policyDb]) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
