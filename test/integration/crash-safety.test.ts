// Crash safety: the real server is killed with SIGKILL at random points while
// batches are being stored, 20 times. Every batch is stored entirely or not at
// all, the SQLite file passes PRAGMA integrity_check, and after each restart
// (which seals any torn audit record) `vulnvault audit verify` passes.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { runCli, startCli } from '../helpers/cli.js';
import { demoRecord, pemPair, postJson } from '../helpers/vault.js';

const BATCH = 400;

describe('crash safety under SIGKILL', () => {
  let work: string;
  let dir: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'vulnvault-crash-'));
    dir = join(work, 'vv');
    assert.equal(runCli(['init', '--dir', dir]).status, 0);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('keeps every batch whole, the database intact and the audit chain verifiable', async () => {
    const ca = readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8');
    const scanner = pemPair(join(dir, 'pki', 'clients'), 'scanner');
    const sent: string[] = [];
    let acknowledged = 0;

    for (let round = 0; round < 20; round++) {
      const s = await startCli(['serve', '--dir', dir, '--port', '0']);
      const v = runCli(['audit', 'verify', '--dir', dir]);
      assert.equal(v.status, 0, `round ${round}: ${v.stdout}${v.stderr}`);

      let killed = false;
      const writer = async (lane: number) => {
        for (let b = 0; !killed; b++) {
          const prefix = `R${round}-L${lane}-B${b}-`;
          sent.push(prefix);
          const batch = Array.from({ length: BATCH }, (_, i) =>
            demoRecord({ VulnID: `${prefix}${i}`, Org: `org${(i % 6) + 1}` }),
          );
          try {
            const res = await postJson(s.port, ca, scanner, batch);
            if (res.status === 201) acknowledged++;
          } catch {
            return; // the server died under us
          }
        }
      };
      const lanes = [writer(0), writer(1)];
      await new Promise((r) => setTimeout(r, 50 + Math.floor(Math.random() * 400)));
      s.child.kill('SIGKILL');
      killed = true;
      await s.exited;
      await Promise.all(lanes);

      const db = new Database(join(dir, 'data', 'findings.db'));
      try {
        assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
        const count = db.prepare("SELECT count(*) AS n FROM findings WHERE vuln_id LIKE ? || '%'");
        for (const prefix of sent.filter((p) => p.startsWith(`R${round}-`))) {
          const n = (count.get(prefix) as { n: number }).n;
          assert.ok(
            n === 0 || n === BATCH,
            `round ${round}: batch ${prefix} stored ${n} of ${BATCH}`,
          );
        }
      } finally {
        db.close();
      }
    }
    assert.ok(acknowledged > 0, 'some batches were acknowledged before the kills');

    const db = new Database(join(dir, 'data', 'findings.db'), { readonly: true });
    const total = (db.prepare('SELECT count(*) AS n FROM findings').get() as { n: number }).n;
    db.close();
    assert.ok(total >= acknowledged * BATCH, 'every acknowledged batch survived');

    const last = await startCli(['serve', '--dir', dir, '--port', '0']);
    last.child.kill('SIGTERM');
    assert.equal(await last.exited, 0);
    const v = runCli(['audit', 'verify', '--dir', dir]);
    assert.equal(v.status, 0, v.stdout + v.stderr);
  });
});
