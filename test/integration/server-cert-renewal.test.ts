// Issue 15: the server renews its own TLS certificate when a third of its
// lifetime is left, without a restart and without dropping established
// connections: a keep-alive connection opened before the renewal keeps
// working on the old certificate while new connections get the new one
// (same names, new key and serial). Real TLS, a 30-second server certificate
// (renewed at 20 s: 10 s of margin for a loaded machine).

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { Agent, request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { writePemPair } from '../../src/pki/dev-pki.js';
import { issueCertificate } from '../../src/pki/issue.js';
import { resolvePath } from '../../src/config/config.js';
import { sleep } from '../helpers/edge.js';
import { makeTestDir, startVault, type RunningVault, type TestDir } from '../helpers/vault.js';

describe('server certificate renewal', () => {
  let t: TestDir;
  let srv: RunningVault;
  const LIFETIME_MS = 30_000;
  let firstSerial = '';
  let notBefore = 0;
  before(async () => {
    t = await makeTestDir();
    notBefore = Date.now();
    const pair = await issueCertificate(t.ca, {
      kind: 'server',
      subject: { cn: 'localhost', o: 'vulnvault-demo' },
      sans: ['localhost', '127.0.0.1', '::1'],
      notBefore: new Date(notBefore),
      notAfter: new Date(notBefore + LIFETIME_MS),
    });
    firstSerial = new X509Certificate(pair.certPem).serialNumber;
    writePemPair(
      resolvePath(t.config, t.config.tls.cert),
      resolvePath(t.config, t.config.tls.key),
      pair,
    );
    srv = await startVault({ ...t.config, pki: { ...t.config.pki, renewServerCert: true } });
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });

  const get = (agent: Agent | false) =>
    new Promise<{ status: number; serial: string; socket: TLSSocket }>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: srv.port,
          path: '/healthz',
          ca: t.ca.certPem,
          cert: t.scanner.certPem,
          key: t.scanner.keyPem,
          servername: 'localhost',
          agent,
        },
        (res) => {
          const socket = res.socket as TLSSocket;
          const serial = socket.getPeerCertificate().serialNumber ?? '';
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, serial, socket }));
        },
      );
      req.on('error', reject);
      req.end();
    });

  it('renews at two thirds of the lifetime; old connections keep working, new ones get the new certificate', async () => {
    const agent = new Agent({
      keepAlive: true,
      maxSockets: 1,
      ca: t.ca.certPem,
      cert: t.scanner.certPem,
      key: t.scanner.keyPem,
    });
    try {
      const a = await get(agent);
      assert.equal(a.status, 200);
      assert.equal(a.serial, firstSerial);
      // Due at notBefore + 20 s (peer certificate read the legacy way: on a reused
      // keep-alive socket getPeerX509Certificate() answers undefined); keep the connection busy meanwhile (keep-alive timeout 5 s).
      while (Date.now() < notBefore + 21_000) {
        await sleep(1_000);
        const k = await get(agent);
        assert.equal(k.socket, a.socket, 'the same connection');
        assert.equal(k.serial, firstSerial);
      }
      let fresh = await get(false);
      for (let i = 0; fresh.serial === firstSerial && i < 20; i++) {
        await sleep(250);
        fresh = await get(false);
      }
      assert.equal(fresh.status, 200);
      assert.notEqual(fresh.serial, firstSerial, 'new connections get the renewed certificate');
      const renewed = fresh.socket.getPeerX509Certificate() as X509Certificate;
      assert.equal(renewed.subject, 'O=vulnvault-demo\nCN=localhost');
      assert.match(renewed.subjectAltName ?? '', /DNS:localhost.*IP Address:127\.0\.0\.1/);
      assert.equal(Date.parse(renewed.validTo) - Date.parse(renewed.validFrom), LIFETIME_MS);
      // The connection opened before the renewal is still served, still on the old certificate.
      const old = await get(agent);
      assert.equal(old.socket, a.socket);
      assert.equal(old.status, 200);
      assert.equal(old.serial, firstSerial);
      assert.ok(srv.logs.some((l) => l.includes('server certificate renewed')));
    } finally {
      agent.destroy();
    }
  });
});
