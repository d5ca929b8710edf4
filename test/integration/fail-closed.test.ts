// Fail closed (IAM 1.2): when the policy store cannot answer, every request
// that needs a decision is denied with 503 and nothing is read or written.
// The failure is real: another process holds an exclusive lock on the policy
// database, so the server's read-only connection gets SQLITE_BUSY.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import {
  call,
  countFindings,
  demoRecord,
  makeTestDir,
  postJson,
  readAuthzLog,
  startVault,
  type RunningVault,
  type TestDir,
} from '../helpers/vault.js';

describe('policy store unavailable', () => {
  let t: TestDir;
  let srv: RunningVault;
  before(async () => {
    t = await makeTestDir();
    srv = await startVault(t.config);
    assert.equal((await postJson(srv.port, t.ca.certPem, t.scanner, demoRecord())).status, 201);
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });

  it('denies reads and writes with 503 while the store is locked, then recovers', async () => {
    const locker = new Database(join(t.dir, 'data', 'policy.db'));
    locker.exec('BEGIN EXCLUSIVE');
    try {
      const write = await postJson(
        srv.port,
        t.ca.certPem,
        t.scanner,
        demoRecord({ VulnID: 'LOCKED-1' }),
      );
      assert.equal(write.status, 503);
      assert.equal(write.json.code, 'policy_unavailable');
      const read = await call(srv.port, {
        path: '/vuln?org=org1',
        ca: t.ca.certPem,
        cert: t.customer,
      });
      assert.equal(read.status, 503);
      assert.equal(read.json.code, 'policy_unavailable');
      assert.equal(read.json.items, undefined);
      assert.doesNotMatch(read.text, /SQLITE|BUSY|database/i);
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
    assert.equal(countFindings(t.dir), 1);
    const errors = readAuthzLog(t.dir).filter((e) => e.decision === 'error');
    assert.equal(errors.length, 2);
    const ok = await call(srv.port, { path: '/vuln?org=org1', ca: t.ca.certPem, cert: t.customer });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.items.length, 1);
  });

  it('logs the internal cause but returns none of it', () => {
    const line = srv.logs.find((l) => l.includes('policy_unavailable'));
    assert.ok(line, srv.logs.join('\n'));
    assert.match(line, /SQLITE_BUSY/);
  });
});
