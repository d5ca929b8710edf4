// Opens the SQLite files. The findings database runs in WAL mode so the
// read-only query connection never blocks, and is never blocked by, ingest.
// Schema changes are numbered migrations keyed on PRAGMA user_version.
// All SQL in this adapter is static text with bound parameters (CSH 1.4).

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PRIORITY_SQL } from './priority.js';

export type Db = Database.Database;

const FINDINGS_MIGRATIONS: readonly string[] = [
  `CREATE TABLE findings (
     seq        INTEGER PRIMARY KEY AUTOINCREMENT,
     id         TEXT NOT NULL UNIQUE,
     org        TEXT NOT NULL,
     vuln_id    TEXT,
     asset      TEXT NOT NULL,
     scanner    TEXT NOT NULL,
     plugin_id  TEXT NOT NULL,
     port       INTEGER NOT NULL DEFAULT 0,
     protocol   TEXT NOT NULL DEFAULT '',
     title      TEXT NOT NULL,
     priority   TEXT,
     due_date   TEXT,
     status     TEXT NOT NULL DEFAULT 'open',
     first_seen TEXT NOT NULL,
     last_seen  TEXT NOT NULL
   ) STRICT;
   CREATE UNIQUE INDEX findings_org_vuln_id ON findings (org, vuln_id) WHERE vuln_id IS NOT NULL;
   CREATE INDEX findings_org_seq ON findings (org, seq);`,
  // 2: scan ingest. Full finding fields, the identity of scanned findings
  // (seed records keep theirs: (org, vuln_id)), CVEs as rows for filtering
  // and counting, and the scan log.
  `ALTER TABLE findings ADD COLUMN severity TEXT NOT NULL DEFAULT 'info';
   ALTER TABLE findings ADD COLUMN severity_raw TEXT NOT NULL DEFAULT '';
   ALTER TABLE findings ADD COLUMN cvss3_score REAL;
   ALTER TABLE findings ADD COLUMN cvss3_vector TEXT;
   ALTER TABLE findings ADD COLUMN cvss2_score REAL;
   ALTER TABLE findings ADD COLUMN cvss2_vector TEXT;
   ALTER TABLE findings ADD COLUMN cves TEXT NOT NULL DEFAULT '[]';
   ALTER TABLE findings ADD COLUMN description TEXT NOT NULL DEFAULT '';
   ALTER TABLE findings ADD COLUMN solution TEXT NOT NULL DEFAULT '';
   ALTER TABLE findings ADD COLUMN evidence TEXT NOT NULL DEFAULT '';
   ALTER TABLE findings ADD COLUMN service TEXT NOT NULL DEFAULT '';
   ALTER TABLE findings ADD COLUMN content_hash TEXT;
   ALTER TABLE findings ADD COLUMN fixed_at TEXT;
   ALTER TABLE findings ADD COLUMN last_scan_id TEXT;
   CREATE UNIQUE INDEX findings_identity
     ON findings (org, scanner, asset, plugin_id, port, protocol) WHERE vuln_id IS NULL;
   CREATE TABLE finding_cves (
     seq INTEGER NOT NULL,
     org TEXT NOT NULL,
     cve TEXT NOT NULL,
     PRIMARY KEY (seq, cve)
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX finding_cves_org_cve ON finding_cves (org, cve);
   CREATE TABLE scans (
     id          TEXT PRIMARY KEY,
     org         TEXT NOT NULL,
     format      TEXT NOT NULL,
     principal   TEXT NOT NULL,
     started_at  TEXT NOT NULL,
     finished_at TEXT NOT NULL,
     received    INTEGER NOT NULL,
     new         INTEGER NOT NULL,
     updated     INTEGER NOT NULL,
     unchanged   INTEGER NOT NULL,
     fixed       INTEGER NOT NULL,
     reopened    INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX scans_org ON scans (org, finished_at);`,
  // 3: envelope encryption (DP 1.1). `sealed` holds description, solution
  // and evidence as one AEAD blob under the org's data key (envelope.ts); the
  // plaintext columns stay empty. Rows from before have sealed NULL until
  // sealPlaintextFindings (sealing.ts) encrypts them at the next start.
  // data_keys: each org's DEK, wrapped by a key-encryption key.
  `ALTER TABLE findings ADD COLUMN sealed BLOB;
   CREATE TABLE data_keys (
     org          TEXT PRIMARY KEY,
     kek          TEXT NOT NULL,
     wrapped      BLOB NOT NULL,
     created_at   TEXT NOT NULL,
     rewrapped_at TEXT
   ) STRICT;`,
  // 4: finding_cves as one B-tree keyed (org, cve, seq) instead of a table
  // keyed (seq, cve) plus an index (org, cve): it answers the same lookups
  // (a CVE filter probes (org, cve, seq); top CVEs walk (org, cve)), and a
  // large import writes one B-tree per CVE instead of two.
  `CREATE TABLE finding_cves_v4 (
     org TEXT NOT NULL,
     cve TEXT NOT NULL,
     seq INTEGER NOT NULL,
     PRIMARY KEY (org, cve, seq)
   ) STRICT, WITHOUT ROWID;
   INSERT INTO finding_cves_v4 (org, cve, seq) SELECT org, cve, seq FROM finding_cves;
   DROP TABLE finding_cves;
   ALTER TABLE finding_cves_v4 RENAME TO finding_cves;`,
  // 5: targets, categories and locations (issue 13). A finding's identity
  // gains the category (SARIF automationDetails.id) and a fingerprint (SARIF
  // fingerprints, package names): both '' for findings from before, so their
  // identity is unchanged. `location` (file:line, purl@version) is data.
  // `analysis`: the scanner's verdict, its clear part as JSON (state,
  // justification, response); its detail is sealed with the other free text.
  `ALTER TABLE findings ADD COLUMN category TEXT NOT NULL DEFAULT '';
   ALTER TABLE findings ADD COLUMN fingerprint TEXT NOT NULL DEFAULT '';
   ALTER TABLE findings ADD COLUMN location TEXT NOT NULL DEFAULT '';
   ALTER TABLE findings ADD COLUMN analysis TEXT;
   DROP INDEX findings_identity;
   CREATE UNIQUE INDEX findings_identity
     ON findings (org, scanner, asset, category, plugin_id, port, protocol, fingerprint)
     WHERE vuln_id IS NULL;`,
  // 6: priority feeds (issue 16): the CISA KEV catalog and FIRST's EPSS
  // scores, one current version each, in the findings database so the read
  // path can join them to finding_cves in SQL. An import replaces a whole
  // feed in one transaction (feed-store.ts); `feeds` says which version is in.
  `CREATE TABLE feed_kev (
     cve        TEXT PRIMARY KEY,
     date_added TEXT,
     due_date   TEXT,
     ransomware INTEGER,
     vendor     TEXT,
     product    TEXT,
     name       TEXT
   ) WITHOUT ROWID;
   CREATE TABLE feed_epss (
     cve        TEXT PRIMARY KEY,
     epss       REAL NOT NULL,
     percentile REAL NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE feeds (
     name        TEXT PRIMARY KEY,
     version     TEXT,
     feed_date   TEXT,
     count       INTEGER,
     sha256      TEXT,
     imported_at TEXT
   );`,
  // 7: working the findings (issue 16). `triage`: a person's analysis, its
  // clear part as JSON (core/triage.ts StoredTriage); its comment sealed in
  // `triage_sealed` (AAD "<id>#triage"). Imports never write either.
  // `rev`: the ETag, bumped by analysis, status and content changes.
  // `suppressed_until`: when the analysis stops suppressing the finding
  // (triage.suppressedUntil); "active" compares it with the read's clock.
  // `due_at`: the SLA due time from `sla_since` (first seen, or reopened) and
  // the org's policy (`sla_policies`, default when absent); seed records
  // keep their DueDate. `prio`: the priority score (triage.priorityScore)
  // from the KEV and EPSS feeds, CVSS and severity. `finding_history`: every
  // status change an import made and every analysis change, per finding.
  `ALTER TABLE findings ADD COLUMN triage TEXT;
   ALTER TABLE findings ADD COLUMN triage_sealed BLOB;
   ALTER TABLE findings ADD COLUMN rev INTEGER NOT NULL DEFAULT 1;
   ALTER TABLE findings ADD COLUMN suppressed_until TEXT;
   ALTER TABLE findings ADD COLUMN sla_since TEXT;
   ALTER TABLE findings ADD COLUMN due_at TEXT;
   ALTER TABLE findings ADD COLUMN first_scan_id TEXT;
   ALTER TABLE findings ADD COLUMN prio INTEGER NOT NULL DEFAULT 0;
   UPDATE findings SET suppressed_until = '9999-12-31T23:59:59.999Z'
    WHERE json_extract(analysis, '$.state') IN ('false_positive', 'not_affected', 'resolved');
   UPDATE findings SET sla_since = first_seen;
   UPDATE findings SET due_at = due_date || 'T00:00:00.000Z' WHERE vuln_id IS NOT NULL AND due_date IS NOT NULL;
   UPDATE findings SET due_at = strftime('%Y-%m-%dT%H:%M:%fZ', first_seen,
       CASE severity WHEN 'critical' THEN '+7 days' WHEN 'high' THEN '+30 days'
                     WHEN 'medium' THEN '+90 days' WHEN 'low' THEN '+180 days' END)
    WHERE vuln_id IS NULL AND severity <> 'info';
   CREATE TABLE finding_history (
     hseq        INTEGER PRIMARY KEY AUTOINCREMENT,
     org         TEXT NOT NULL,
     finding_seq INTEGER NOT NULL,
     at          TEXT NOT NULL,
     kind        TEXT NOT NULL,
     from_value  TEXT,
     to_value    TEXT NOT NULL,
     by_whom     TEXT,
     scan_id     TEXT,
     analysis    TEXT,
     sealed      BLOB
   ) STRICT;
   CREATE INDEX finding_history_finding ON finding_history (finding_seq, hseq);
   CREATE TABLE sla_policies (
     org        TEXT PRIMARY KEY,
     policy     TEXT NOT NULL,
     updated_at TEXT NOT NULL
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX findings_org_prio ON findings (org, prio DESC, seq);
   CREATE INDEX findings_org_due ON findings (org, due_at, seq);
   CREATE INDEX findings_triage_expiry ON findings (suppressed_until) WHERE triage IS NOT NULL;
   UPDATE findings SET prio = ${PRIORITY_SQL};`,
  // 8: read paths of one large org (npm run bench:query, 1,000,000 findings).
  // findings_org_severity: a single-severity list in seq order (the rowid
  // trails every index) instead of a walk over all the org's findings.
  // findings_org_state, findings_org_asset_state: the summary's counts from
  // covering indexes instead of full passes over the rows (~1 KB each).
  // findings_seq_state: the active check of a finding reached through
  // finding_cves (top CVEs, KEV count) without reading its row.
  // findings_org_fixed: mean time to fix over the fixed findings only.
  `CREATE INDEX findings_org_severity ON findings (org, severity);
   CREATE INDEX findings_org_state ON findings (org, severity, status, suppressed_until, due_at);
   CREATE INDEX findings_org_asset_state ON findings (org, asset, status, suppressed_until);
   CREATE INDEX findings_seq_state ON findings (seq, status, suppressed_until);
   CREATE INDEX findings_org_fixed ON findings (org, fixed_at, severity, first_seen)
     WHERE status = 'fixed';`,
];

const IDEMPOTENCY_MIGRATIONS: readonly string[] = [
  `CREATE TABLE idempotency_keys (
     scope        TEXT NOT NULL,
     key          TEXT NOT NULL,
     state        TEXT NOT NULL,
     request_hash TEXT,
     status       INTEGER,
     body         TEXT,
     created_at   TEXT NOT NULL,
     PRIMARY KEY (scope, key)
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);`,
];

const POLICY_MIGRATIONS: readonly string[] = [
  `CREATE TABLE grants (
     principal_type TEXT NOT NULL,
     principal      TEXT NOT NULL,
     action         TEXT NOT NULL,
     org            TEXT NOT NULL,
     created_at     TEXT NOT NULL,
     PRIMARY KEY (principal_type, principal, action, org)
   ) STRICT, WITHOUT ROWID;`,
];

function migrate(db: Db, migrations: readonly string[], upTo = migrations.length): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(
      `database schema version ${current} is newer than this vulnvault (${migrations.length})`,
    );
  }
  for (let v = current; v < upTo; v++) {
    db.transaction(() => {
      db.exec(migrations[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

/**
 * Read-write findings database, created and migrated if needed. `schemaVersion`
 * stops migrating earlier: only for tests that build a database of an older
 * release.
 */
export function openFindingsDb(file: string, schemaVersion?: number): Db {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  // 16 KiB pages for a new database (an existing one keeps its size): a
  // finding row is about 1 KB, and a large import writes a quarter as many
  // WAL frames and B-tree pages as with 4 KiB. npm run bench:ingest: about
  // 0.2 s less server CPU per 100 MB upload.
  db.pragma('page_size = 16384');
  db.pragma('journal_mode = WAL');
  // FULL: an acknowledged 201 survives power loss, not only a process crash.
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  // A scan import is one large transaction: a bigger page cache (bounded,
  // 32 MiB) keeps its index pages in memory instead of spilling them early.
  db.pragma('cache_size = -32768');
  migrate(db, FINDINGS_MIGRATIONS, schemaVersion);
  return db;
}

/**
 * Idempotency-Key records, in their own file: a scan import holds the
 * findings database's write lock for the length of an upload, and claiming a
 * key must never wait for that.
 */
export function openIdempotencyDb(file: string): Db {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 2000');
  migrate(db, IDEMPOTENCY_MIGRATIONS);
  return db;
}

/** Read-only connection for the query path (IAM 1.3): it cannot write. */
export function openFindingsDbReadOnly(file: string): Db {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}

/**
 * Policy database. Rollback-journal mode (not WAL): the serving process opens
 * it read-only, so it never needs write access to the directory's -shm file.
 */
export function openPolicyDb(file: string): Db {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  db.pragma('journal_mode = DELETE');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 2000');
  migrate(db, POLICY_MIGRATIONS);
  return db;
}

/**
 * The server's policy connection: read-only, with a short busy timeout so an
 * unreachable (locked, corrupt, missing) store turns into a fast 503.
 */
export function openPolicyDbReadOnly(file: string, busyTimeoutMs = 250): Db {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma(`busy_timeout = ${Math.trunc(busyTimeoutMs)}`);
  return db;
}
