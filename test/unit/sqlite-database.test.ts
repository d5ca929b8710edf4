// openFindingsDb: a new findings database gets 16 KiB pages (the import's
// write path); one made with another page size keeps it and opens as before.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openFindingsDb } from '../../src/adapters/sqlite/database.js';

describe('findings database migration 4 (finding_cves keyed by org, cve, seq)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vulnvault-db-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps every CVE row of a version-3 database', () => {
    const file = join(dir, 'v3.db');
    const v3 = openFindingsDb(file, 3);
    v3.exec(`INSERT INTO finding_cves (seq, org, cve) VALUES
               (1, 'org1', 'CVE-2024-0001'), (1, 'org1', 'CVE-2024-0002'), (2, 'org2', 'CVE-2024-0001')`);
    v3.close();
    const db = openFindingsDb(file, 4);
    assert.equal(db.pragma('user_version', { simple: true }), 4);
    assert.deepEqual(
      db.prepare('SELECT org, cve, seq FROM finding_cves ORDER BY org, cve, seq').raw().all(),
      [
        ['org1', 'CVE-2024-0001', 1],
        ['org1', 'CVE-2024-0002', 1],
        ['org2', 'CVE-2024-0001', 2],
      ],
    );
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT 1 FROM finding_cves WHERE org = 'org1' AND cve = 'x' AND seq = 1`,
      )
      .all() as { detail: string }[];
    assert.match(plan[0]?.detail ?? '', /PRIMARY KEY \(org=\? AND cve=\? AND seq=\?\)/);
    db.close();
  });
});

describe('findings database migration 5 (category, fingerprint, location, analysis)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vulnvault-db-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the findings of a version-4 database with their identity, and widens it', () => {
    const file = join(dir, 'v4.db');
    const v4 = openFindingsDb(file, 4);
    v4.exec(`INSERT INTO findings (id, org, asset, scanner, plugin_id, port, protocol, title,
               first_seen, last_seen)
             VALUES ('a', 'org1', 'h1', 'nessus', '42', 443, 'tcp', 't', 'x', 'x')`);
    v4.close();
    const db = openFindingsDb(file, 5);
    assert.equal(db.pragma('user_version', { simple: true }), 5);
    assert.deepEqual(
      db.prepare('SELECT id, category, fingerprint, location, analysis FROM findings').raw().all(),
      [['a', '', '', '', null]],
    );
    const insert = db.prepare(
      `INSERT INTO findings (id, org, asset, scanner, plugin_id, port, protocol, title,
         first_seen, last_seen, category, fingerprint)
       VALUES (?, 'org1', 'h1', 'nessus', '42', 443, 'tcp', 't', 'x', 'x', ?, ?)`,
    );
    // The same identity again is refused; another category or fingerprint is another finding.
    assert.throws(() => insert.run('b', '', ''), /UNIQUE/);
    insert.run('c', 'cat', '');
    insert.run('d', '', 'fp');
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT 1 FROM findings WHERE org = 'o' AND scanner = 's' AND asset = 'a'
           AND category = '' AND plugin_id = 'p' AND port = 0 AND protocol = '' AND fingerprint = ''
           AND vuln_id IS NULL`,
      )
      .all() as { detail: string }[];
    assert.match(plan[0]?.detail ?? '', /findings_identity/);
    db.close();
  });
});

describe('findings database migration 6 (KEV and EPSS feeds)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vulnvault-db-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('adds the feed tables to a version-5 database, which a CVE filter joins by key', () => {
    const file = join(dir, 'v5.db');
    const v5 = openFindingsDb(file, 5);
    v5.exec(`INSERT INTO finding_cves (org, cve, seq) VALUES ('org1', 'CVE-2021-44228', 1)`);
    v5.close();
    const db = openFindingsDb(file, 6);
    assert.equal(db.pragma('user_version', { simple: true }), 6);
    assert.deepEqual(
      db
        .prepare(`SELECT name FROM sqlite_schema WHERE name LIKE 'feed%' ORDER BY name`)
        .pluck()
        .all(),
      ['feed_epss', 'feed_kev', 'feeds'],
    );
    db.exec(`INSERT INTO feed_kev (cve, date_added, due_date, ransomware)
               VALUES ('CVE-2021-44228', '2021-12-10', '2021-12-24', 1);
             INSERT INTO feed_epss (cve, epss, percentile) VALUES ('CVE-2021-44228', 0.94, 0.99)`);
    const joined = `SELECT c.seq, k.due_date, e.epss FROM finding_cves c
                    LEFT JOIN feed_kev k ON k.cve = c.cve
                    LEFT JOIN feed_epss e ON e.cve = c.cve
                   WHERE c.org = 'org1'`;
    assert.deepEqual(db.prepare(joined).raw().all(), [[1, '2021-12-24', 0.94]]);
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${joined}`).all() as { detail: string }[])
      .map((r) => r.detail)
      .join('\n');
    assert.match(plan, /SEARCH k USING PRIMARY KEY \(cve=\?\)/);
    assert.match(plan, /SEARCH e USING PRIMARY KEY \(cve=\?\)/);
    assert.throws(
      () => db.exec(`INSERT INTO feed_epss (cve, epss, percentile) VALUES ('CVE-1', NULL, 0)`),
      /NOT NULL/,
    );
    db.close();
  });
});

describe('findings database page size', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vulnvault-db-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is 16 KiB for a new database', () => {
    const db = openFindingsDb(join(dir, 'new.db'));
    assert.equal(db.pragma('page_size', { simple: true }), 16384);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  });

  it('stays what it was for an existing database', () => {
    const file = join(dir, 'old.db');
    const old = new Database(file);
    old.pragma('page_size = 4096');
    old.exec('CREATE TABLE t (x INTEGER)');
    old.close();
    const db = openFindingsDb(file);
    assert.equal(db.pragma('page_size', { simple: true }), 4096);
    assert.ok((db.pragma('user_version', { simple: true }) as number) >= 3);
    db.close();
  });
});

describe('findings database migration 7 (triage, history, SLA due times, priority)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vulnvault-db-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('derives suppression, SLA due times and revisions for the findings of a version-6 database', () => {
    const file = join(dir, 'v6.db');
    const v6 = openFindingsDb(file, 6);
    const insert = v6.prepare(
      `INSERT INTO findings (id, org, vuln_id, asset, scanner, plugin_id, title, severity, due_date,
         first_seen, last_seen, analysis)
       VALUES (?, 'org1', ?, 'h1', ?, ?, 't', ?, ?, '2026-01-01T00:00:00.000Z',
         '2026-01-01T00:00:00.000Z', ?)`,
    );
    insert.run('a', null, 'nessus', '1', 'critical', null, null);
    insert.run(
      'b',
      null,
      'sarif',
      '2',
      'high',
      null,
      '{"state":"false_positive","justification":null,"response":[]}',
    );
    insert.run('c', null, 'nessus', '3', 'info', null, null);
    insert.run('d', 'V-1', 'seed', '4', 'info', '2026-03-31', null);
    v6.close();
    const db = openFindingsDb(file, 7);
    assert.equal(db.pragma('user_version', { simple: true }), 7);
    const rows = db
      .prepare(
        `SELECT id, rev, suppressed_until, due_at, sla_since, triage FROM findings ORDER BY id`,
      )
      .all();
    assert.deepEqual(rows, [
      {
        id: 'a',
        rev: 1,
        suppressed_until: null,
        due_at: '2026-01-08T00:00:00.000Z',
        sla_since: '2026-01-01T00:00:00.000Z',
        triage: null,
      },
      {
        id: 'b',
        rev: 1,
        suppressed_until: '9999-12-31T23:59:59.999Z',
        due_at: '2026-01-31T00:00:00.000Z',
        sla_since: '2026-01-01T00:00:00.000Z',
        triage: null,
      },
      {
        id: 'c',
        rev: 1,
        suppressed_until: null,
        due_at: null,
        sla_since: '2026-01-01T00:00:00.000Z',
        triage: null,
      },
      {
        id: 'd',
        rev: 1,
        suppressed_until: null,
        due_at: '2026-03-31T00:00:00.000Z',
        sla_since: '2026-01-01T00:00:00.000Z',
        triage: null,
      },
    ]);
    db.close();
  });
});

describe('findings database migration 8 (read indexes of a large org)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vulnvault-db-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('adds the list and summary indexes to a version-7 database, and a one-severity list walks its index', () => {
    const file = join(dir, 'v7.db');
    openFindingsDb(file, 7).close();
    const db = openFindingsDb(file);
    assert.equal(db.pragma('user_version', { simple: true }), 8);
    const names = db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'findings'`)
      .pluck()
      .all();
    for (const name of [
      'findings_org_severity',
      'findings_org_state',
      'findings_org_asset_state',
      'findings_seq_state',
      'findings_org_fixed',
    ]) {
      assert.ok(names.includes(name), name);
    }
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT seq FROM findings WHERE org = ? AND severity = ? AND seq > ?
          ORDER BY seq LIMIT 101`,
      )
      .all('org1', 'critical', 0)
      .map((r) => (r as { detail: string }).detail)
      .join(' | ');
    assert.match(plan, /findings_org_severity/);
    assert.doesNotMatch(plan, /TEMP B-TREE/);
    db.close();
  });
});
