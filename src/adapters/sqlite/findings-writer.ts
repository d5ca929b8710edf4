// FindingsWriter on SQLite: a batch is one transaction, so it is stored
// entirely or not at all; a unique-index violation becomes vuln_exists.
// Scan imports run on this connection, or — when `importWorkerFile` is given
// (the server does) — in a worker thread with its own connection to that
// file; one WriteLock orders all of them.

import { randomUUID } from 'node:crypto';
import { SqliteError } from 'better-sqlite3';
import { VaultError } from '../../core/errors.js';
import type { FindingsWriter, NewSeedFinding, ScanMeta } from '../../core/ports.js';
import type { Db } from './database.js';
import { storeError } from './store-error.js';
import { createScanImporter } from './scan-import.js';
import { startImportWorker } from './worker-scan-import.js';
import { WriteLock } from './write-lock.js';

const SEED_SCANNER = 'seed';

export interface SqliteFindingsWriter extends FindingsWriter {
  close(): Promise<void>;
}

export function createSqliteFindingsWriter(
  db: Db,
  options: { importWorkerFile?: string } = {},
): SqliteFindingsWriter {
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

  const lock = new WriteLock();
  const worker =
    options.importWorkerFile !== undefined
      ? startImportWorker(options.importWorkerFile, lock)
      : undefined;
  const beginScan = worker ? (m: ScanMeta) => worker.begin(m) : createScanImporter(db, lock);

  return {
    beginScanImport(meta) {
      return beginScan(meta);
    },
    async close() {
      await worker?.close();
    },
    async insertSeedBatch(records) {
      try {
        const stored = await lock.run(() => insertAll(records, new Date().toISOString()));
        return { stored };
      } catch (err) {
        throw storeError(err);
      }
    },
  };
}

export { storeError } from './store-error.js';
