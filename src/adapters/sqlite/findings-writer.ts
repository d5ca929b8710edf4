// FindingsWriter on SQLite: a batch is one transaction, so it is stored
// entirely or not at all; a unique-index violation becomes vuln_exists.
// Scan imports run on this connection, or — when `importWorkerFile` is given
// (the server does) — in a worker thread with its own connection to that
// file; one WriteLock orders all of them. Every row is sealed (DP 1.1) with
// the org's data key from `ciphers` before it is written.

import { randomUUID } from 'node:crypto';
import { SqliteError } from 'better-sqlite3';
import { VaultError } from '../../core/errors.js';
import type { FindingsWriter, NewSeedFinding, ScanImport, ScanMeta } from '../../core/ports.js';
import type { FindingSealer } from '../../crypto/envelope.js';
import type { FindingCiphers } from '../../crypto/finding-ciphers.js';
import type { Db } from './database.js';
import { storeError } from './store-error.js';
import { createScanImporter } from './scan-import.js';
import { startImportWorker } from './worker-scan-import.js';
import { WriteLock } from './write-lock.js';
import type { SlaPolicy } from '../../core/triage.js';

const SEED_SCANNER = 'seed';

export interface SqliteFindingsWriter extends FindingsWriter {
  close(): Promise<void>;
}

const NO_CONTENT = { description: '', solution: '', evidence: '' };

export function createSqliteFindingsWriter(
  db: Db,
  options: {
    ciphers: FindingCiphers;
    importWorkerFile?: string;
    lock?: WriteLock;
    /** SLA policy of orgs without their own (config triage.sla). */
    slaDefault?: SlaPolicy;
  },
): SqliteFindingsWriter {
  const insert = db.prepare(
    `INSERT INTO findings
       (id, org, vuln_id, asset, scanner, plugin_id, title, priority, due_date, status, first_seen,
        last_seen, sealed, sla_since, due_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)`,
  );
  const insertAll = db.transaction(
    (records: readonly NewSeedFinding[], sealers: Map<string, FindingSealer>, now: string) => {
      records.forEach((r, index) => {
        const id = randomUUID();
        try {
          insert.run(
            id,
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
            // A seed record has no sensitive field yet; an empty sealed blob
            // keeps every row in the same, encrypted form.
            (sealers.get(r.org) as FindingSealer).seal(r.org, id, NO_CONTENT),
            now,
            // A seed record keeps its DueDate as its SLA due time.
            `${r.dueDate}T00:00:00.000Z`,
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
    },
  );

  const lock = options.lock ?? new WriteLock();
  const worker =
    options.importWorkerFile !== undefined
      ? startImportWorker(options.importWorkerFile, lock, options.ciphers.workerSealerModule)
      : undefined;
  const inProcess = createScanImporter(db, lock);

  return {
    async beginScanImport(given: ScanMeta) {
      const meta = { ...given, sla: given.sla ?? options.slaDefault };
      const { sealer, dek } = await options.ciphers.forWrite(meta.org);
      const imp = await (worker ? worker.begin(meta, dek) : inProcess(meta, sealer));
      return keepKeyChecked(imp, () => options.ciphers.forWrite(meta.org));
    },
    async close() {
      await worker?.close();
    },
    async insertSeedBatch(records) {
      const sealers = new Map<string, FindingSealer>();
      for (const org of new Set(records.map((r) => r.org))) {
        sealers.set(org, (await options.ciphers.forWrite(org)).sealer);
      }
      try {
        const stored = await lock.run(() => insertAll(records, sealers, new Date().toISOString()));
        return { stored };
      } catch (err) {
        throw storeError(err);
      }
    },
  };
}

/** How often a running scan import asks again whether its org's key may still be used. */
const KEY_RECHECK_MS = 5000;

/**
 * An import seals with the data key it was given at its start, and may run
 * for up to limits.uploadTimeoutMs. So that a key disabled meanwhile stops
 * being used as promised (once the cached key is older than keys.cacheSeconds),
 * the import asks the key provider again every few seconds and before commit;
 * when the key is no longer available it fails (503 key_unavailable) and the
 * caller aborts it: nothing of the upload is stored.
 */
function keepKeyChecked(imp: ScanImport, check: () => Promise<unknown>): ScanImport {
  let checkedAt = Date.now();
  return {
    async stage(findings, assets) {
      if (Date.now() - checkedAt >= KEY_RECHECK_MS) {
        await check();
        checkedAt = Date.now();
      }
      return imp.stage(findings, assets);
    },
    async commit(received) {
      await check();
      return imp.commit(received);
    },
    abort: () => imp.abort(),
  };
}

export { storeError } from './store-error.js';
