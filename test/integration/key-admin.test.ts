// DP 1.2 key-admin separation: key changes need the key-admin private key,
// which `init` writes outside the data directory and which nothing the server
// reads names; the server runs without it, verifies every keyring against the
// pinned admin public key, and refuses a keyring readable by others. Deletion
// waits 7–30 days, is cancellable, and is refused while a version still
// protects data keys. Every change lands in the signed key-admin log.

import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, runCliAsync, startCli, type Served } from '../helpers/cli.js';
import { get, uploadScan, type Client } from '../helpers/scans.js';
import { makeTestDir, type TestDir } from '../helpers/vault.js';

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

describe('key-admin separation', () => {
  let t: TestDir;
  let adminKey: string;
  let keyring: string;
  before(async () => {
    t = await makeTestDir();
    adminKey = `${t.dir}.key-admin/key-admin.pem`;
    keyring = join(t.dir, 'keys', 'keyring.json');
  });
  after(() => t.cleanup());

  it('init puts the key-admin key outside the data directory, where the server never looks', () => {
    assert.ok(existsSync(adminKey));
    assert.equal(statSync(adminKey).mode & 0o777, 0o600);
    assert.equal(statSync(keyring).mode & 0o777, 0o600);
    const pem = readFileSync(adminKey, 'utf8');
    const body = pem.split('\n')[1] as string;
    for (const f of allFiles(t.dir)) {
      assert.ok(!readFileSync(f).includes(body), `${f} holds the key-admin private key`);
    }
    const config = readFileSync(join(t.dir, 'vulnvault.json'), 'utf8');
    assert.doesNotMatch(config, /key-admin\.pem|\.key-admin/);
    // --admin-key inside the data directory is refused.
    const r = runCli(['init', '--dir', `${t.dir}-2`, '--admin-key', `${t.dir}-2/keys/admin.pem`]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--admin-key must be outside/);
  });

  it('serves without the admin key; key changes are refused without it or with another key', async () => {
    const away = `${adminKey}.offline`;
    renameSync(adminKey, away);
    let s: Served | undefined;
    try {
      s = await startCli(['serve', '--dir', t.dir, '--port', '0']);
      const c: Client = { port: s.port, ca: t.ca.certPem, cert: t.scanner };
      const up = await uploadScan(
        c,
        'org1',
        JSON.stringify({
          findings: [
            { asset: 'a', scanner: 's', pluginId: '1', title: 't', severity: 'low', evidence: 'e' },
          ],
        }),
        'application/json',
      );
      assert.equal(up.status, 201, up.text);

      const none = await runCliAsync(['keys', 'rotate', '--dir', t.dir]);
      assert.equal(none.status, 1);
      assert.match(none.stderr, /no key-admin key at .*the server does not hold it/);
      // The server's own Ed25519 key (the audit signing key) is not the admin key.
      const serverKey = join(t.dir, 'keys', 'audit-signing.key');
      const wrong = await runCliAsync([
        'keys',
        'disable',
        '--version',
        '1',
        '--dir',
        t.dir,
        '--admin-key',
        serverKey,
      ]);
      assert.equal(wrong.status, 1);
      assert.match(wrong.stderr, /not the key-admin key of this keyring/);

      // A hand edit (disabling version 1 without the admin signature) is not
      // loaded: the server keeps serving with the keyring it verified.
      const ring = JSON.parse(readFileSync(keyring, 'utf8')) as { versions: { state: string }[] };
      (ring.versions[0] as { state: string }).state = 'disabled';
      writeFileSync(keyring, JSON.stringify(ring), { mode: 0o600 });
      await new Promise((r) => setTimeout(r, 1500));
      const read: Client = { port: s.port, ca: t.ca.certPem, cert: t.customer };
      const list = await get(read, '/v1/orgs/org1/findings');
      assert.equal(list.status, 200);
      const st = await runCliAsync(['keys', 'status', '--dir', t.dir]);
      assert.equal(st.status, 1);
      assert.match(st.stderr, /not signed by the key-admin key/);
    } finally {
      if (s) {
        s.child.kill('SIGTERM');
        await s.exited;
      }
      renameSync(away, adminKey);
    }
    assert.match(s?.stderr() ?? '', /keyring not reloaded/);
    // …and a restart refuses it outright.
    const restart = runCli(['serve', '--dir', t.dir, '--port', '0']);
    assert.equal(restart.status, 1);
    assert.match(
      restart.stderr,
      /not signed by the key-admin key \(keys.adminPublicKey\); refusing to use it/,
    );
  });

  it('refuses to start when the keyring is readable by group or others', () => {
    // Put back a signed keyring: re-create it with keys init after removing the edited one.
    renameSync(keyring, `${keyring}.edited`);
    const init = runCli(['keys', 'init', '--dir', t.dir]);
    assert.equal(init.status, 0, init.stderr);
    chmodSync(keyring, 0o644);
    const r = runCli(['serve', '--dir', t.dir, '--port', '0']);
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0] as string,
      /keyring .* is readable by group or others \(mode 644\); chmod 600 it/,
    );
    chmodSync(keyring, 0o600);
  });

  it('schedules deletion only after 7–30 days, for versions that protect nothing, and cancels it', () => {
    // The recreated keyring cannot open org1's data key (wrapped by the old
    // version 1): it stays protected by a version this keyring lacks.
    const rot = runCli(['keys', 'rotate', '--dir', t.dir]);
    assert.equal(rot.status, 0, rot.stderr);
    assert.match(
      rot.stdout,
      /not rewrapped: org1 \(under local:1: this keyring cannot unwrap it\)/,
    );
    const primary = runCli(['keys', 'schedule-deletion', '--version', '2', '--dir', t.dir]);
    assert.equal(primary.status, 1);
    assert.match(primary.stderr, /it is the primary version; rotate first/);
    const protects = runCli(['keys', 'schedule-deletion', '--version', '1', '--dir', t.dir]);
    assert.equal(protects.status, 1);
    assert.match(protects.stderr, /still protects the data keys of org1; rotate first/);

    // A version that protects nothing: rotate again, so 2 is retired empty.
    assert.equal(runCli(['keys', 'rotate', '--dir', t.dir]).status, 0);
    for (const days of ['6', '31']) {
      const r = runCli([
        'keys',
        'schedule-deletion',
        '--version',
        '2',
        '--days',
        days,
        '--dir',
        t.dir,
      ]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /waiting period must be 7 to 30 days/);
    }
    const sched = runCli([
      'keys',
      'schedule-deletion',
      '--version',
      '2',
      '--days',
      '7',
      '--dir',
      t.dir,
    ]);
    assert.equal(sched.status, 0, sched.stderr);
    const status = JSON.parse(runCli(['keys', 'status', '--json', '--dir', t.dir]).stdout) as {
      versions: { version: number; state: string; deletionDate: string | null }[];
    };
    const v2 = status.versions.find((v) => v.version === 2);
    assert.equal(v2?.state, 'pending_deletion');
    const days = (Date.parse(v2?.deletionDate ?? '') - Date.now()) / 86_400_000;
    assert.ok(days > 6.9 && days <= 7, String(days));
    const cancel = runCli(['keys', 'cancel-deletion', '--version', '2', '--dir', t.dir]);
    assert.equal(cancel.status, 0, cancel.stderr);
    assert.match(cancel.stdout, /deletion cancelled/);
    const after = JSON.parse(
      runCli(['keys', 'status', '--json', '--dir', t.dir]).stdout,
    ) as typeof status;
    assert.equal(after.versions.find((v) => v.version === 2)?.state, 'disabled');
  });

  it('records every key operation in the signed key-admin log', () => {
    const log = readFileSync(join(t.dir, 'logs', 'key-admin.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string });
    assert.deepEqual(
      log.map((r) => r.event),
      ['create', 'create', 'rotate', 'rotate', 'schedule-deletion', 'cancel-deletion'],
    );
    const ok = runCli(['audit', 'verify', '--dir', t.dir]);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /OK key-admin\.log: 6 records/);

    const file = join(t.dir, 'logs', 'key-admin.log');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('"event":"schedule-deletion"', '"event":"enable"'));
    const bad = runCli(['audit', 'verify', '--dir', t.dir]);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /FAIL key-admin\.log/);
    writeFileSync(file, text);
  });
});
