// Every private key vulnvault reads must be mode 0600 or stricter: the
// server refuses to start with a server key that group or others can read
// (one line naming the file and its mode), the hot TLS reload keeps the
// previous material instead of taking such a key, and `pki` refuses a CA key
// that is not private. (The keyring and the audit signing key have their own
// checks: key-admin.test.ts, audit-chain.test.ts.)

import assert from 'node:assert/strict';
import { chmodSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { issueCertificate } from '../../src/pki/issue.js';
import { runCli } from '../helpers/cli.js';
import { edgeCall, startEdge, withConfig } from '../helpers/edge.js';
import { makeTestDir, type RunningVault, type TestDir } from '../helpers/vault.js';

/** Replaces a file by rename with `mode`, as a tool that writes keys 0644 would. */
function replace(file: string, content: string, mode: number): void {
  const tmp = `${file}.new`;
  writeFileSync(tmp, content);
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

describe('private key file modes', () => {
  let t: TestDir;
  before(async () => {
    t = await makeTestDir();
  });
  after(() => t.cleanup());
  const serverKey = () => join(t.dir, 'pki', 'server.key');

  it('refuses to start when the server key is readable by group or others, in one line', () => {
    chmodSync(serverKey(), 0o644);
    try {
      const r = runCli(['serve', '--dir', t.dir, '--port', '0']);
      assert.equal(r.status, 1, r.stdout);
      assert.match(
        r.stderr,
        /^vulnvault: server key \S*server\.key is readable by group or others \(mode 644\); chmod 600 it\n$/,
      );
    } finally {
      chmodSync(serverKey(), 0o600);
    }
  });

  it('refuses a CA key that is not private before issuing anything', () => {
    const caKey = join(t.dir, 'pki', 'ca.key');
    chmodSync(caKey, 0o640);
    try {
      const r = runCli(['pki', 'issue', '--dir', t.dir, '--name', 'm1', '--ou', 'x', '--cn', 'm1']);
      assert.equal(r.status, 1, r.stdout);
      assert.match(
        r.stderr,
        /^vulnvault: the CA key \S*ca\.key is readable by group or others \(mode 640\); chmod 600 it\n$/,
      );
    } finally {
      chmodSync(caKey, 0o600);
    }
  });

  describe('hot TLS reload', () => {
    let srv: RunningVault;
    before(async () => {
      // Reload only when the test asks (reloadTls), not on a timer.
      srv = await startEdge(withConfig(t.config, { tls: { reloadIntervalMs: 3_600_000 } }));
    });
    after(() => srv.close());
    const serial = async () =>
      (await edgeCall(srv.port, { path: '/healthz', ca: t.ca.certPem, cert: t.customer }))
        .serverSerial;

    it('keeps the previous key when the new one is readable by others, and logs why', async () => {
      const before = await serial();
      const next = await issueCertificate(t.ca, {
        kind: 'server',
        subject: { cn: 'localhost' },
        sans: ['localhost', '127.0.0.1'],
        notAfter: new Date(Date.now() + 86_400_000),
      });
      replace(join(t.dir, 'pki', 'server.crt'), next.certPem, 0o644);
      replace(serverKey(), next.keyPem, 0o644);
      await srv.vault.reloadTls();
      assert.ok(
        srv.logs.some(
          (l) =>
            l.includes('TLS material not reloaded') &&
            /server key \S*server\.key is readable by group or others \(mode 644\)/.test(l),
        ),
        srv.logs.join(''),
      );
      assert.equal(await serial(), before, 'new connections still get the previous certificate');

      chmodSync(serverKey(), 0o600);
      await srv.vault.reloadTls();
      assert.notEqual(await serial(), before, 'the same key, made private, is taken');
    });
  });
});
