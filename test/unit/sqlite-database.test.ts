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
    const db = openFindingsDb(file);
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
