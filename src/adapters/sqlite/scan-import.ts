// ScanImport on SQLite. Parsed findings are staged batch by batch in a TEMP
// table of the writer connection (temp tables take no lock on the findings
// database, so other writers are not blocked while a long upload streams in,
// and a crash leaves nothing behind). commit() then applies the whole upload
// in one synchronous transaction of set-based statements:
//
//   staging ──(a) look up prior seq/hash/status by identity
//           ──(b) count new / updated / unchanged / reopened
//           ──(c) open findings of covered assets missing from staging → fixed
//           ──(d) insert new · update seen ones (fixed → reopened) · CVE rows
//           ──(e) scan record, staging cleared
//
// Every statement is static SQL with bound parameters (CSH 1.4).

import { createHash, randomUUID } from 'node:crypto';
import type { CoveredAsset, ScannedFinding } from '../../core/finding.js';
import type { ScanCounts, ScanImport, ScanMeta } from '../../core/ports.js';
import type { Db } from './database.js';
import { storeError } from './store-error.js';

const STAGING = `
  CREATE TEMP TABLE IF NOT EXISTS scan_staging (
    upload TEXT NOT NULL, scanner TEXT NOT NULL, asset TEXT NOT NULL, plugin_id TEXT NOT NULL,
    port INTEGER NOT NULL, protocol TEXT NOT NULL, id TEXT NOT NULL, title TEXT NOT NULL,
    severity TEXT NOT NULL, severity_raw TEXT NOT NULL, cvss3_score REAL, cvss3_vector TEXT,
    cvss2_score REAL, cvss2_vector TEXT, cves TEXT NOT NULL, description TEXT NOT NULL,
    solution TEXT NOT NULL, evidence TEXT NOT NULL, service TEXT NOT NULL,
    content_hash TEXT NOT NULL, prior_seq INTEGER, prior_hash TEXT, prior_status TEXT,
    PRIMARY KEY (upload, scanner, asset, plugin_id, port, protocol)
  );
  CREATE TEMP TABLE IF NOT EXISTS scan_assets (
    upload TEXT NOT NULL, scanner TEXT NOT NULL, asset TEXT NOT NULL,
    PRIMARY KEY (upload, scanner, asset)
  ) WITHOUT ROWID;`;

const IDENTITY_MATCH = `f.org = @org AND f.scanner = s.scanner AND f.asset = s.asset
  AND f.plugin_id = s.plugin_id AND f.port = s.port AND f.protocol = s.protocol
  AND f.vuln_id IS NULL`;

/** Hash of everything but identity and timestamps: equal hash = unchanged. */
function contentHash(f: ScannedFinding, cves: string): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        f.title,
        f.severity,
        f.severityRaw,
        f.cvss3Score,
        f.cvss3Vector,
        f.cvss2Score,
        f.cvss2Vector,
        cves,
        f.description,
        f.solution,
        f.evidence,
        f.service,
      ]),
    )
    .digest('base64url')
    .slice(0, 22);
}

export function createScanImporter(db: Db): (meta: ScanMeta) => ScanImport {
  db.exec(STAGING);
  const stageFinding = db.prepare(
    `INSERT INTO scan_staging (upload, scanner, asset, plugin_id, port, protocol, id, title,
       severity, severity_raw, cvss3_score, cvss3_vector, cvss2_score, cvss2_vector, cves,
       description, solution, evidence, service, content_hash)
     VALUES (@upload, @scanner, @asset, @pluginId, @port, @protocol, @id, @title, @severity,
       @severityRaw, @cvss3Score, @cvss3Vector, @cvss2Score, @cvss2Vector, @cves, @description,
       @solution, @evidence, @service, @contentHash)
     ON CONFLICT (upload, scanner, asset, plugin_id, port, protocol) DO UPDATE SET
       title = excluded.title, severity = excluded.severity, severity_raw = excluded.severity_raw,
       cvss3_score = excluded.cvss3_score, cvss3_vector = excluded.cvss3_vector,
       cvss2_score = excluded.cvss2_score, cvss2_vector = excluded.cvss2_vector,
       cves = (SELECT json_group_array(value) FROM (
                 SELECT value FROM json_each(scan_staging.cves)
                 UNION SELECT value FROM json_each(excluded.cves))),
       description = excluded.description, solution = excluded.solution,
       evidence = excluded.evidence, service = excluded.service,
       content_hash = substr(scan_staging.content_hash || excluded.content_hash, 1, 4096)`,
  );
  const stageAsset = db.prepare(
    `INSERT OR IGNORE INTO scan_assets (upload, scanner, asset) VALUES (?, ?, ?)`,
  );
  const stageBatch = db.transaction(
    (upload: string, findings: readonly ScannedFinding[], assets: readonly CoveredAsset[]) => {
      for (const a of assets) stageAsset.run(upload, a.scanner, a.asset);
      for (const f of findings) {
        const cves = JSON.stringify(f.cves);
        stageFinding.run({
          upload,
          scanner: f.scanner,
          asset: f.asset,
          pluginId: f.pluginId,
          port: f.port,
          protocol: f.protocol,
          id: randomUUID(),
          title: f.title,
          severity: f.severity,
          severityRaw: f.severityRaw,
          cvss3Score: f.cvss3Score,
          cvss3Vector: f.cvss3Vector,
          cvss2Score: f.cvss2Score,
          cvss2Vector: f.cvss2Vector,
          cves,
          description: f.description,
          solution: f.solution,
          evidence: f.evidence,
          service: f.service,
          contentHash: contentHash(f, cves),
        });
      }
    },
  );

  const lookupPrior = db.prepare(
    `UPDATE scan_staging AS s SET (prior_seq, prior_hash, prior_status) =
       (SELECT f.seq, f.content_hash, f.status FROM findings f WHERE ${IDENTITY_MATCH})
     WHERE s.upload = @upload`,
  );
  const counts = db.prepare<{ upload: string }, Omit<ScanCounts, 'fixed'>>(
    `SELECT coalesce(sum(prior_seq IS NULL), 0) AS new,
            coalesce(sum(prior_status = 'fixed'), 0) AS reopened,
            coalesce(sum(prior_status IN ('open', 'reopened') AND prior_hash IS NOT content_hash), 0) AS updated,
            coalesce(sum(prior_status IN ('open', 'reopened') AND prior_hash IS content_hash), 0) AS unchanged
       FROM scan_staging WHERE upload = @upload`,
  );
  const markFixed = db.prepare(
    `UPDATE findings SET status = 'fixed', fixed_at = @now, last_scan_id = @scanId
      WHERE seq IN (
        SELECT f.seq FROM scan_assets a
          JOIN findings f ON f.org = @org AND f.scanner = a.scanner AND f.asset = a.asset
                         AND f.vuln_id IS NULL
         WHERE a.upload = @upload AND f.status IN ('open', 'reopened')
           AND NOT EXISTS (
             SELECT 1 FROM scan_staging s
              WHERE s.upload = @upload AND s.scanner = f.scanner AND s.asset = f.asset
                AND s.plugin_id = f.plugin_id AND s.port = f.port AND s.protocol = f.protocol))`,
  );
  const dropChangedCves = db.prepare(
    `DELETE FROM finding_cves WHERE seq IN (
       SELECT prior_seq FROM scan_staging
        WHERE upload = @upload AND prior_seq IS NOT NULL AND prior_hash IS NOT content_hash)`,
  );
  const insertNew = db.prepare(
    `INSERT INTO findings (id, org, vuln_id, asset, scanner, plugin_id, port, protocol, title,
       severity, severity_raw, cvss3_score, cvss3_vector, cvss2_score, cvss2_vector, cves,
       description, solution, evidence, service, content_hash, status, first_seen, last_seen,
       last_scan_id)
     SELECT id, @org, NULL, asset, scanner, plugin_id, port, protocol, title, severity,
            severity_raw, cvss3_score, cvss3_vector, cvss2_score, cvss2_vector, cves,
            description, solution, evidence, service, content_hash, 'open', @now, @now, @scanId
       FROM scan_staging WHERE upload = @upload AND prior_seq IS NULL ORDER BY rowid`,
  );
  const updateSeen = db.prepare(
    `UPDATE findings AS f SET
       title = s.title, severity = s.severity, severity_raw = s.severity_raw,
       cvss3_score = s.cvss3_score, cvss3_vector = s.cvss3_vector,
       cvss2_score = s.cvss2_score, cvss2_vector = s.cvss2_vector, cves = s.cves,
       description = s.description, solution = s.solution, evidence = s.evidence,
       service = s.service, content_hash = s.content_hash,
       status = CASE WHEN f.status = 'fixed' THEN 'reopened' ELSE f.status END,
       fixed_at = NULL, last_seen = @now, last_scan_id = @scanId
      FROM scan_staging AS s
     WHERE s.upload = @upload AND s.prior_seq = f.seq`,
  );
  const insertCvesNew = db.prepare(
    `INSERT OR IGNORE INTO finding_cves (seq, org, cve)
     SELECT f.seq, @org, j.value
       FROM scan_staging s JOIN findings f ON ${IDENTITY_MATCH}, json_each(s.cves) j
      WHERE s.upload = @upload AND s.prior_seq IS NULL`,
  );
  const insertCvesChanged = db.prepare(
    `INSERT OR IGNORE INTO finding_cves (seq, org, cve)
     SELECT s.prior_seq, @org, j.value FROM scan_staging s, json_each(s.cves) j
      WHERE s.upload = @upload AND s.prior_seq IS NOT NULL AND s.prior_hash IS NOT s.content_hash`,
  );
  const insertScan = db.prepare(
    `INSERT INTO scans (id, org, format, principal, started_at, finished_at, received, new,
       updated, unchanged, fixed, reopened)
     VALUES (@scanId, @org, @format, @principal, @startedAt, @now, @received, @new, @updated,
       @unchanged, @fixed, @reopened)`,
  );
  const clearStaging = db.prepare(`DELETE FROM scan_staging WHERE upload = ?`);
  const clearAssets = db.prepare(`DELETE FROM scan_assets WHERE upload = ?`);
  const clear = (upload: string) => {
    clearStaging.run(upload);
    clearAssets.run(upload);
  };

  const apply = db.transaction((meta: ScanMeta, upload: string, received: number): ScanCounts => {
    const p = { upload, org: meta.org, scanId: meta.scanId, now: new Date().toISOString() };
    lookupPrior.run({ upload, org: meta.org });
    const c = counts.get({ upload }) as Omit<ScanCounts, 'fixed'>;
    const fixed = markFixed.run({ ...p }).changes;
    dropChangedCves.run({ upload });
    insertNew.run(p);
    updateSeen.run({ upload, now: p.now, scanId: p.scanId });
    insertCvesNew.run({ upload, org: meta.org });
    insertCvesChanged.run({ upload, org: meta.org });
    const result: ScanCounts = {
      new: c.new,
      updated: c.updated,
      unchanged: c.unchanged,
      fixed,
      reopened: c.reopened,
    };
    insertScan.run({
      ...result,
      scanId: meta.scanId,
      org: meta.org,
      format: meta.format,
      principal: meta.principal,
      startedAt: meta.startedAt,
      now: p.now,
      received,
    });
    clear(upload);
    return result;
  });

  return (meta) => {
    // The staging key is private to this import, never taken from input.
    const upload = randomUUID();
    let done = false;
    const finish = () => {
      if (done) throw new Error('scan import already finished');
      done = true;
    };
    return {
      stage(findings, assets) {
        try {
          if (done) throw new Error('scan import already finished');
          stageBatch(upload, findings, assets);
          return Promise.resolve();
        } catch (err) {
          return Promise.reject(storeError(err));
        }
      },
      commit(received) {
        try {
          finish();
          return Promise.resolve(apply(meta, upload, received));
        } catch (err) {
          try {
            clear(upload);
          } catch {
            // the temp table goes with the connection anyway
          }
          return Promise.reject(storeError(err));
        }
      },
      abort() {
        if (done) return Promise.resolve();
        done = true;
        try {
          clear(upload);
          return Promise.resolve();
        } catch (err) {
          return Promise.reject(storeError(err));
        }
      },
    };
  };
}
