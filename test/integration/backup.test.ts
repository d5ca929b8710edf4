// DP 1.3: an online backup taken while the server serves restores exactly
// the data of that moment; keys, PKI and logs are not in it; restore refuses
// to run beside a server, to overwrite data without --force, and to use a
// backup whose contents do not match their checksums. Sealed finding content
// stays sealed in the backup (the wrapped data keys travel with it, the
// keyring does not), and opens again after a restore with the directory's keyring.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import * as tar from 'tar';
import { sqliteFindingCiphers } from '../../src/adapters/sqlite/ciphers.js';
import { openFindingsDb } from '../../src/adapters/sqlite/database.js';
import { createSqliteFindingsReader } from '../../src/adapters/sqlite/findings-reader.js';
import { loadConfig } from '../../src/config/config.js';
import { runCli, startCli, type Served } from '../helpers/cli.js';
import { call, countFindings, demoRecord, pemPair, postJson } from '../helpers/vault.js';

describe('backup and restore', () => {
  let work: string;
  let dir: string;
  let ca: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'vulnvault-backup-test-'));
    dir = join(work, 'vv');
    assert.equal(runCli(['init', '--dir', dir]).status, 0);
    ca = readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8');
  });
  const children: Served[] = [];
  after(async () => {
    // A failed assertion must not leave a server running (it would hold the runner).
    for (const c of children) {
      if (c.child.exitCode === null) {
        c.child.kill('SIGKILL');
        await c.exited;
      }
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('round-trips an online backup and refuses unsafe restores', async () => {
    const scanner = pemPair(join(dir, 'pki', 'clients'), 'scanner');
    const customer = pemPair(join(dir, 'pki', 'clients'), 'customer');
    const s = await startCli(['serve', '--dir', dir, '--port', '0']);
    children.push(s);
    const batch = (p: string, n: number) =>
      Array.from({ length: n }, (_, i) => demoRecord({ VulnID: `${p}-${i}` }));
    assert.equal((await postJson(s.port, ca, scanner, batch('BEFORE', 50))).status, 201);
    const marker = `BACKUP-MARKER-${process.pid}-${Date.now()}`;
    const scan = await call(s.port, {
      method: 'POST',
      path: '/v1/orgs/org3/scans',
      ca,
      cert: scanner,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        findings: [
          {
            asset: 'h',
            scanner: 's',
            pluginId: '1',
            title: 't',
            severity: 'low',
            evidence: marker,
          },
        ],
      }),
    });
    assert.equal(scan.status, 201, scan.text);

    const out = join(work, 'vv.backup.tgz');
    const b = runCli(['backup', '--dir', dir, '--out', out]);
    assert.equal(b.status, 0, b.stderr);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const entries: string[] = [];
    await tar.t({ file: out, onReadEntry: (e) => entries.push(e.path) });
    assert.deepEqual(entries.sort(), ['findings.db', 'manifest.json', 'policies.db', 'usage.db']);

    assert.equal((await postJson(s.port, ca, scanner, batch('AFTER', 10))).status, 201);
    assert.equal(
      runCli([
        'policy',
        'grant',
        '--dir',
        dir,
        '--ou',
        'customer',
        '--action',
        'read',
        '--org',
        'org2',
      ]).status,
      0,
    );

    const running = runCli(['restore', out, '--dir', dir, '--force']);
    assert.equal(running.status, 1);
    assert.match(running.stderr, /a server \(pid \d+\) is using .*; stop it first/);
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);

    const noForce = runCli(['restore', out, '--dir', dir]);
    assert.equal(noForce.status, 1);
    assert.match(noForce.stderr, /already holds data; use --force/);

    // A backup whose database was altered after it was taken is refused.
    const x = join(work, 'x');
    mkdirSync(x);
    await tar.x({ file: out, cwd: x });
    const keyring = JSON.parse(readFileSync(join(dir, 'keys', 'keyring.json'), 'utf8')) as {
      versions: { material: string }[];
    };
    const kek = keyring.versions[0]?.material as string;
    for (const f of ['manifest.json', 'findings.db', 'policies.db', 'usage.db']) {
      const bytes = readFileSync(join(x, f));
      assert.ok(!bytes.includes(marker), `${f} holds sealed content in clear`);
      assert.ok(
        !bytes.includes(kek) && !bytes.includes(Buffer.from(kek, 'base64')),
        `${f} holds the KEK`,
      );
    }
    const copy = new Database(join(x, 'findings.db'), { readonly: true });
    assert.deepEqual(
      copy.prepare('SELECT org, kek FROM data_keys ORDER BY org').all(),
      [
        { org: 'org1', kek: 'local:1' },
        { org: 'org3', kek: 'local:1' },
      ],
      'the wrapped data keys are in the backup',
    );
    copy.close();
    const db = readFileSync(join(x, 'findings.db'));
    db[db.length - 100] = db[db.length - 100]! ^ 0xff;
    writeFileSync(join(x, 'findings.db'), db);
    const bad = join(work, 'bad.tgz');
    await tar.c({ gzip: true, file: bad, cwd: x }, ['manifest.json', 'findings.db', 'policies.db']);
    const refused = runCli(['restore', bad, '--dir', dir, '--force']);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /findings\.db does not match its checksum; nothing restored/);
    assert.equal(countFindings(dir, 'org1'), 60);

    const ok = runCli(['restore', out, '--dir', dir, '--force']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(countFindings(dir, 'org1'), 50);
    const restored = openFindingsDb(join(dir, 'data', 'findings.db'));
    const ciphers = await sqliteFindingCiphers(loadConfig(dir), restored);
    try {
      const r = createSqliteFindingsReader(restored, ciphers);
      const page = await r.queryFindings('org3', {}, 0, 10);
      const one = await r.getFinding('org3', page.items[0]?.id ?? '');
      assert.equal(one?.evidence, marker, 'the restored finding opens with the keyring');
    } finally {
      ciphers.close();
      restored.close();
    }

    const s2 = await startCli(['serve', '--dir', dir, '--port', '0']);
    children.push(s2);
    const page = await call(s2.port, { path: '/vuln?org=org1&limit=1000', ca, cert: customer });
    assert.equal(page.json.items.length, 50);
    assert.ok(page.json.items.every((i: { VulnID: string }) => i.VulnID.startsWith('BEFORE-')));
    const org2 = await call(s2.port, { path: '/vuln?org=org2', ca, cert: customer });
    assert.equal(org2.status, 403, 'the grant made after the backup is gone');
    s2.child.kill('SIGTERM');
    assert.equal(await s2.exited, 0);
  });
});
