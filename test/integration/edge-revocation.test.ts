// IAM 1.1 revocation and rotation on a running server: `pki revoke` updates
// the CRL and the server refuses the certificate within 5 s, on new
// connections and on established keep-alive ones; a new CA bundle (with its
// CRL) and a rotated server certificate are picked up without a restart and
// without dropping established connections; `pki renew` issues a working
// replacement; the maximum client-certificate lifetime is enforced.

import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCrl } from '../../src/pki/crl.js';
import { createCa } from '../../src/pki/issue.js';
import { runCli, runCliAsync } from '../helpers/cli.js';
import { edgeCall, startEdge, withConfig } from '../helpers/edge.js';
import {
  clientCert,
  makeTestDir,
  pemPair,
  readAuthzLog,
  type RunningVault,
  type TestDir,
} from '../helpers/vault.js';

const refused = (p: Promise<unknown>) =>
  p.then(
    () => false,
    () => true,
  );

describe('revocation and hot rotation', () => {
  let t: TestDir;
  let srv: RunningVault;
  before(async () => {
    t = await makeTestDir();
    srv = await startEdge(t.config);
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });
  const clients = () => join(t.dir, 'pki', 'clients');

  it('refuses a revoked certificate within 5 s, on new and on established connections', async () => {
    assert.equal(
      runCli(['pki', 'issue', '--dir', t.dir, '--name', 'r1', '--ou', 'customer', '--cn', 'c-r1'])
        .status,
      0,
    );
    const r1 = pemPair(clients(), 'r1');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await edgeCall(srv.port, {
        path: '/vuln?org=org1',
        ca: t.ca.certPem,
        cert: r1,
        agent,
      });
      assert.equal(first.status, 200);

      const cli = runCli(['pki', 'revoke', '--dir', t.dir, '--name', 'r1']);
      assert.equal(cli.status, 0, cli.stderr);
      assert.match(cli.stdout, /revoked .*r1\.crt/);
      const since = Date.now();
      let refusedNew = false;
      while (!refusedNew && Date.now() - since < 5000) {
        refusedNew = await refused(
          edgeCall(srv.port, { path: '/healthz', ca: t.ca.certPem, cert: r1 }),
        );
        if (!refusedNew) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(refusedNew, 'a new connection with the revoked certificate is refused within 5 s');
      assert.ok(
        readAuthzLog(t.dir).some(
          (e) => e.action === 'connect' && e.reason === 'certificate revoked',
        ),
      );

      // The keep-alive connection opened before the revocation is refused too.
      const again = await edgeCall(srv.port, {
        path: '/vuln?org=org1',
        ca: t.ca.certPem,
        cert: r1,
        agent,
      });
      assert.equal(again.localPort, first.localPort, 'same connection');
      assert.equal(again.status, 401);
      assert.equal(again.json.code, 'unauthenticated');
      assert.match(again.json.message, /revoked/);
      assert.equal(again.headers.connection, 'close');

      // Others are unaffected.
      const other = await edgeCall(srv.port, {
        path: '/healthz',
        ca: t.ca.certPem,
        cert: t.customer,
      });
      assert.equal(other.status, 200);
    } finally {
      agent.destroy();
    }
  });

  it('renews a certificate: same subject, new serial, accepted', async () => {
    assert.equal(
      runCli(['pki', 'issue', '--dir', t.dir, '--name', 'r2', '--ou', 'customer', '--cn', 'c-r2'])
        .status,
      0,
    );
    const before = readFileSync(join(clients(), 'r2.crt'), 'utf8');
    const cli = runCli(['pki', 'renew', '--dir', t.dir, '--name', 'r2']);
    assert.equal(cli.status, 0, cli.stderr);
    const after = pemPair(clients(), 'r2');
    assert.notEqual(after.certPem, before);
    const r = await edgeCall(srv.port, { path: '/vuln?org=org1', ca: t.ca.certPem, cert: after });
    assert.equal(r.status, 200);
  });

  it('rotates the server certificate without a restart or dropping established connections', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await edgeCall(srv.port, {
        path: '/healthz',
        ca: t.ca.certPem,
        cert: t.customer,
        agent,
      });
      assert.equal(first.status, 200);
      // The CLI runs while the established connection keeps being used (a
      // synchronous run could outlast the server's 5 s keep-alive timeout).
      let done = false;
      const rotating = runCliAsync(['pki', 'rotate-server', '--dir', t.dir]).finally(() => {
        done = true;
      });
      while (!done) {
        await new Promise((r) => setTimeout(r, 500));
        const kept = await edgeCall(srv.port, {
          path: '/healthz',
          ca: t.ca.certPem,
          cert: t.customer,
          agent,
        });
        assert.equal(kept.localPort, first.localPort, 'the established connection was kept');
      }
      const cli = await rotating;
      assert.equal(cli.status, 0, cli.stderr);
      let fresh;
      const since = Date.now();
      do {
        await new Promise((r) => setTimeout(r, 100));
        // The established connection is used while waiting, so the server's
        // 5 s keep-alive timeout never closes it however slow the machine.
        const kept = await edgeCall(srv.port, {
          path: '/healthz',
          ca: t.ca.certPem,
          cert: t.customer,
          agent,
        });
        assert.equal(kept.localPort, first.localPort, 'the established connection was kept');
        fresh = await edgeCall(srv.port, { path: '/healthz', ca: t.ca.certPem, cert: t.customer });
      } while (fresh.serverSerial === first.serverSerial && Date.now() - since < 15000);
      assert.notEqual(
        fresh.serverSerial,
        first.serverSerial,
        'new connections get the new certificate',
      );
      const same = await edgeCall(srv.port, {
        path: '/healthz',
        ca: t.ca.certPem,
        cert: t.customer,
        agent,
      });
      assert.equal(same.status, 200);
      assert.equal(same.localPort, first.localPort, 'the established connection was kept');
    } finally {
      agent.destroy();
    }
  });

  it('accepts a CA added to the bundle (with its CRL) without a restart', async () => {
    const ca2 = await createCa(
      { cn: 'second CA', o: 'vulnvault-demo' },
      new Date(Date.now() + 86_400_000),
    );
    const c2 = await clientCert(ca2, { cn: 'c2', o: 'vulnvault-demo', ou: ['customer'] });
    assert.ok(await refused(edgeCall(srv.port, { path: '/healthz', ca: t.ca.certPem, cert: c2 })));
    const caFile = join(t.dir, 'pki', 'ca.crt');
    const crlFile = join(t.dir, 'pki', 'ca.crl');
    // With CRLs on, every CA needs one: add both in one go.
    writeFileSync(
      crlFile,
      readFileSync(crlFile, 'utf8') + (await createCrl(ca2, [], new Date(Date.now() + 86_400_000))),
    );
    writeFileSync(caFile, readFileSync(caFile, 'utf8') + ca2.certPem);
    let status = 0;
    const since = Date.now();
    while (status !== 200 && Date.now() - since < 5000) {
      await new Promise((r) => setTimeout(r, 100));
      status = await edgeCall(srv.port, { path: '/healthz', ca: t.ca.certPem, cert: c2 }).then(
        (r) => r.status,
        () => 0,
      );
    }
    assert.equal(status, 200);
  });

  it('keeps the previous material when a changed file does not load', async () => {
    const crlFile = join(t.dir, 'pki', 'ca.crl');
    const good = readFileSync(crlFile, 'utf8');
    writeFileSync(crlFile, '-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n');
    await srv.vault.reloadTls();
    assert.ok(srv.logs.some((l) => l.includes('TLS material not reloaded')));
    const r = await edgeCall(srv.port, { path: '/healthz', ca: t.ca.certPem, cert: t.customer });
    assert.equal(r.status, 200);
    writeFileSync(crlFile, good);
    await srv.vault.reloadTls();
  });

  it('keeps the revocations when the CRL file disappears', async () => {
    const crlFile = join(t.dir, 'pki', 'ca.crl');
    const good = readFileSync(crlFile, 'utf8');
    const r1 = pemPair(clients(), 'r1'); // revoked by the first test
    rmSync(crlFile);
    await srv.vault.reloadTls();
    assert.ok(srv.logs.some((l) => l.includes('disappeared; keeping the previous one')));
    assert.ok(await refused(edgeCall(srv.port, { path: '/healthz', ca: t.ca.certPem, cert: r1 })));
    writeFileSync(crlFile, good);
    await srv.vault.reloadTls();
  });
});

describe('maximum client-certificate lifetime', () => {
  let t: TestDir;
  let srv: RunningVault;
  let long: Awaited<ReturnType<typeof clientCert>>;
  before(async () => {
    t = await makeTestDir();
    srv = await startEdge(t.config);
    long = await clientCert(
      t.ca,
      { cn: 'long', o: 'vulnvault-demo', ou: ['customer'] },
      {
        notAfter: new Date(Date.now() + 48 * 3_600_000),
      },
    );
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });

  it('refuses a certificate that lives longer than the maximum (24 h by default) and logs why', async () => {
    assert.ok(
      await refused(edgeCall(srv.port, { path: '/healthz', ca: t.ca.certPem, cert: long })),
    );
    assert.ok(
      readAuthzLog(t.dir).some(
        (e) => e.reason === 'certificate lifetime exceeds the maximum of 24h',
      ),
    );
    const ok = await edgeCall(srv.port, { path: '/healthz', ca: t.ca.certPem, cert: t.customer });
    assert.equal(ok.status, 200, 'the 24 h certificates init writes pass');
  });

  it('accepts it when the configured maximum allows it', async () => {
    const lax = await startEdge(withConfig(t.config, { tls: { maxClientCertLifetime: '72h' } }));
    try {
      const r = await edgeCall(lax.port, { path: '/healthz', ca: t.ca.certPem, cert: long });
      assert.equal(r.status, 200);
    } finally {
      await lax.close();
    }
  });

  it('will not issue what the edge would refuse', () => {
    const r = runCli([
      'pki',
      'issue',
      '--dir',
      t.dir,
      '--name',
      'x',
      '--ou',
      'customer',
      '--cn',
      'x',
      '--ttl',
      '48h',
    ]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /longer than tls.maxClientCertLifetime/);
  });
});
