// NS 1.2 and IAM 1.1 at the socket: only TLS 1.2+ with AEAD suites is
// negotiated, and a socket whose certificate did not verify is closed before
// any request on it is read, so no handler ever runs for it.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { createCa } from '../../src/pki/issue.js';
import {
  call,
  clientCert,
  countFindings,
  demoRecord,
  makeTestDir,
  readAuthzLog,
  startVault,
  type RunningVault,
  type TestDir,
} from '../helpers/vault.js';

describe('TLS policy and the connection gate', () => {
  let t: TestDir;
  let srv: RunningVault;
  before(async () => {
    t = await makeTestDir();
    srv = await startVault(t.config);
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });

  it('negotiates TLS 1.3 by default and TLS 1.2 with an AEAD suite', async () => {
    const r13 = await call(srv.port, { path: '/healthz', ca: t.ca.certPem, cert: t.customer });
    assert.equal(r13.status, 200);
    const r12 = await call(srv.port, {
      path: '/healthz',
      ca: t.ca.certPem,
      cert: t.customer,
      tls: { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' },
    });
    assert.equal(r12.status, 200);
  });

  it('refuses TLS 1.2 CBC suites', async () => {
    for (const cipher of ['ECDHE-ECDSA-AES128-SHA256', 'ECDHE-ECDSA-AES256-SHA', 'AES128-SHA']) {
      await assert.rejects(
        call(srv.port, {
          path: '/healthz',
          ca: t.ca.certPem,
          cert: t.customer,
          tls: { maxVersion: 'TLSv1.2', ciphers: cipher },
        }),
        /handshake failure|no cipher|alert/i,
      );
    }
  });

  it('refuses TLS renegotiation, so the certificate behind a socket cannot change', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('no answer'), 5_000);
      const done = (what: string) => {
        clearTimeout(timer);
        resolve(what);
      };
      const socket = connect({
        host: '127.0.0.1',
        port: srv.port,
        ca: t.ca.certPem,
        servername: 'localhost',
        cert: t.customer.certPem,
        key: t.customer.keyPem,
        maxVersion: 'TLSv1.2',
      });
      socket.on('secureConnect', () => {
        socket.renegotiate({ rejectUnauthorized: true }, (err) => {
          done(err ? 'refused' : 'renegotiated');
          socket.destroy();
        });
        // Traffic drives the renegotiation handshake.
        socket.write('GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n');
      });
      socket.on('error', () => done('refused'));
      socket.on('close', () => done('refused'));
    });
    assert.equal(outcome, 'refused');
  });

  it('serves no request on a socket whose certificate did not verify', async () => {
    const otherCa = await createCa({ cn: 'other', o: 'x' }, new Date(Date.now() + 86_400_000));
    const impostor = await clientCert(otherCa, {
      cn: 'nessus-1',
      o: 'vulnvault-demo',
      ou: ['scanner'],
    });
    const body = JSON.stringify(demoRecord({ VulnID: 'SMUGGLED-1' }));
    const received = await new Promise<string>((resolve) => {
      const socket = connect({
        host: '127.0.0.1',
        port: srv.port,
        ca: t.ca.certPem,
        servername: 'localhost',
        cert: impostor.certPem,
        key: impostor.keyPem,
      });
      let data = '';
      socket.on('secureConnect', () => {
        // Pipeline two requests straight after the handshake.
        const req = `POST /vuln HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
        socket.write(req + req);
      });
      socket.on('data', (c: Buffer) => (data += c.toString()));
      socket.on('error', () => resolve(data));
      socket.on('close', () => resolve(data));
    });
    assert.equal(received, '', 'no HTTP response bytes');
    assert.equal(countFindings(t.dir), 0);
    const log = readAuthzLog(t.dir);
    assert.ok(log.some((e) => e.action === 'connect' && e.reason === 'unknown CA'));
    assert.ok(
      !log.some((e) => e.action === 'findings:write'),
      'no authorization was even attempted',
    );
  });

  it('keeps CR, LF and quotes from a certificate inside one log record', async () => {
    const nasty = await clientCert(t.ca, {
      cn: 'evil\r\n{"log":"authz","decision":"allow"}"',
      o: 'vulnvault-demo',
      ou: ['cust"omer\nx'],
    });
    const res = await call(srv.port, { path: '/vuln?org=org1', ca: t.ca.certPem, cert: nasty });
    assert.equal(res.status, 403);
    const lines = readAuthzLog(t.dir);
    const forged = lines.filter((e) => e.decision === 'allow');
    assert.equal(forged.length, 0);
    const rec = lines.find((e) => e.action === 'findings:read');
    assert.ok(rec);
    assert.equal(rec.principal.id, 'evil\r\n{"log":"authz","decision":"allow"}"');
    assert.equal(rec.principal.ou, 'cust"omer\nx');
    assert.equal(rec.decision, 'deny');
  });
});
