// FindingsWriter on SQLite: a batch is one transaction, so it is stored
// entirely or not at all; a unique-index violation becomes vuln_exists.

import { randomUUID } from 'node:crypto';
import { SqliteError } from 'better-sqlite3';
import { VaultError } from '../../core/errors.js';
import type { FindingsWriter, NewSeedFinding } from '../../core/ports.js';
import type { Db } from './database.js';
import { storeError } from './store-error.js';
import { createScanImporter } from './scan-import.js';

const SEED_SCANNER = 'seed';

export function createSqliteFindingsWriter(db: Db): FindingsWriter {
  const insert = db.prepare(
    `INSERT INTO findings
       (id, org, vuln_id, asset, scanner, plugin_id, title, priority, due_date, status, first_seen, last_seen)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)`,
  );
  const insertAll = db.transaction((records: readonly NewSeedFinding[], now: string) => {
    records.forEach((r, index) => {
      try {
        insert.run(
          randomUUID(),
          r.org,
          r.vulnId,
          r.asset,
          SEED_SCANNER,
          r.pluginId,
          r.title,
          r.priority,
          r.dueDate,
          now,
          now,
        );
      } catch (err) {
        if (err instanceof SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE') {
          throw new VaultError(
            'vuln_exists',
            `record ${index}: a finding with this VulnID is already stored for its org; nothing was stored`,
            { cause: err },
          );
        }
        throw err;
      }
    });
    return records.length;
  });

  const beginScan = createScanImporter(db);

  return {
    beginScanImport(meta) {
      try {
        return Promise.resolve(beginScan(meta));
      } catch (err) {
        return Promise.reject(storeError(err));
      }
    },
    insertSeedBatch(records) {
      try {
        const stored = insertAll(records, new Date().toISOString());
        return Promise.resolve({ stored });
      } catch (err) {
        return Promise.reject(storeError(err));
      }
    },
  };
}

export { storeError } from './store-error.js';
