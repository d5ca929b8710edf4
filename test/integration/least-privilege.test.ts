// IAM 1.3 locally: the serving process reads policies through a read-only
// connection and the query path reads findings through a read-only
// connection; a write through either is refused by SQLite itself.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  openFindingsDbReadOnly,
  openPolicyDbReadOnly,
} from '../../src/adapters/sqlite/database.js';
import { makeTestDir, type TestDir } from '../helpers/vault.js';

describe('least privilege of the server connections', () => {
  let t: TestDir;
  before(async () => {
    t = await makeTestDir();
  });
  after(() => t.cleanup());

  it('cannot write grants through the policy connection the server uses', () => {
    const db = openPolicyDbReadOnly(join(t.dir, 'data', 'policy.db'));
    try {
      assert.throws(
        () =>
          db
            .prepare("INSERT INTO grants VALUES ('ou', 'customer', 'findings:read', 'org5', 'now')")
            .run(),
        /readonly|read-only/i,
      );
      assert.throws(() => db.exec('DELETE FROM grants'), /readonly|read-only/i);
    } finally {
      db.close();
    }
  });

  it('cannot write findings through the query path connection', () => {
    const db = openFindingsDbReadOnly(join(t.dir, 'data', 'findings.db'));
    try {
      assert.throws(() => db.exec('DELETE FROM findings'), /readonly|read-only/i);
      assert.throws(() => db.exec('DROP TABLE findings'), /readonly|read-only/i);
      // Data keys are looked up through it too, and cannot be changed through it.
      assert.throws(() => db.exec('DELETE FROM data_keys'), /readonly|read-only/i);
    } finally {
      db.close();
    }
  });
});
