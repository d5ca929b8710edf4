// LO 1.2: one JSON access-log line per request with request id, source IP,
// principal, method, route, status, bytes in/out, latency, TLS version and
// cipher; input (paths, certificate names) cannot forge or split a line.
// Response headers: no-store, nosniff and HSTS on every response, errors
// included; never X-Powered-By.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { edgeCall, startEdge, withConfig } from '../helpers/edge.js';
import {
  clientCert,
  demoRecord,
  makeTestDir,
  waitFor,
  type RunningVault,
  type TestDir,
} from '../helpers/vault.js';
import { readAccessLog } from '../helpers/edge.js';

describe('access log', () => {
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

  it('writes one line per request with the API Gateway fields', async () => {
    const body = JSON.stringify(demoRecord({ VulnID: 'AL-1' }));
    const posted = await edgeCall(srv.port, {
      method: 'POST',
      path: '/vuln',
      ca: t.ca.certPem,
      cert: t.scanner,
      body,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(posted.status, 201);
    const got = await edgeCall(srv.port, {
      path: '/vuln?org=org1',
      ca: t.ca.certPem,
      cert: t.customer,
    });
    assert.equal(got.status, 200);
    const missing = await edgeCall(srv.port, { path: '/nope', ca: t.ca.certPem, cert: t.customer });
    assert.equal(missing.status, 404);

    const id = (r: { headers: Record<string, unknown> }) => r.headers['x-request-id'];
    await waitFor(() => readAccessLog(t.dir).some((e) => e.requestId === id(missing)), 3000);
    const log = readAccessLog(t.dir);
    const p = log.find((e) => e.requestId === id(posted));
    assert.ok(p);
    assert.equal(p.log, 'access');
    assert.equal(p.sourceIp, '127.0.0.1');
    assert.equal(p.principal.type, 'ou');
    assert.equal(p.principal.name, 'scanner');
    assert.equal(p.principal.id, 'nessus-1');
    assert.match(p.principal.serial, /^[0-9A-F]+$/);
    assert.equal(p.method, 'POST');
    assert.equal(p.route, '/vuln');
    assert.equal(p.status, 201);
    assert.ok(p.bytesIn > body.length, 'headers and body');
    assert.ok(p.bytesOut > posted.text.length);
    assert.equal(typeof p.latencyMs, 'number');
    assert.equal(p.tlsVersion, 'TLSv1.3');
    assert.match(p.cipher, /^TLS_(AES_\d+_GCM|CHACHA20_POLY1305)_SHA\d+$/);
    assert.match(p.time, /^\d{4}-\d\d-\d\dT/);
    const g = log.find((e) => e.requestId === id(got));
    assert.equal(g?.path, '/vuln', 'the query string is not logged');
    assert.ok(g && g.bytesOut > got.text.length);
    const m = log.find((e) => e.requestId === id(missing));
    assert.equal(m?.route, null);
    assert.equal(m?.status, 404);
  });

  it('cannot be forged through the path or a certificate name', async () => {
    const nasty = await clientCert(t.ca, {
      cn: 'x"}\n{"log":"access","status":200,"principal":"admin',
      o: 'vulnvault-demo',
      ou: ['customer\r\n'],
    });
    const r = await edgeCall(srv.port, {
      path: '/%0A%7B%22log%22:%22access%22%7D/%22%0D%0A',
      ca: t.ca.certPem,
      cert: nasty,
    });
    assert.ok(r.status >= 400);
    await waitFor(
      () => readAccessLog(t.dir).some((e) => e.requestId === r.headers['x-request-id']),
      3000,
    );
    const text = readFileSync(join(t.dir, 'logs', 'access.log'), 'utf8');
    const lines = text.trim().split('\n');
    assert.ok(lines.every((l) => JSON.parse(l).log === 'access'));
    assert.equal(lines.filter((l) => l.includes('"principal":"admin')).length, 0);
    assert.equal(
      readAccessLog(t.dir).filter((e) => e.requestId === r.headers['x-request-id']).length,
      1,
    );
  });
});

describe('security headers on every response', () => {
  let t: TestDir;
  let srv: RunningVault;
  before(async () => {
    t = await makeTestDir();
    srv = await startEdge(
      withConfig(t.config, {
        server: { bodyLimitBytes: 1024 },
        throttle: {
          global: { rate: 1000, burst: 1000 },
          defaultPlan: 'standard',
          plans: { standard: { rate: 1000, burst: 1000 }, tiny: { rate: 0.001, burst: 1 } },
          assignments: { 'tiny-ou': 'tiny' },
        },
      }),
    );
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });

  it('sends no-store, nosniff and HSTS, and no X-Powered-By, on 2xx and every error', async () => {
    const ca = t.ca.certPem;
    const json = { 'content-type': 'application/json' };
    const tiny = await clientCert(t.ca, { cn: 'tiny', o: 'vulnvault-demo', ou: ['tiny-ou'] });
    await edgeCall(srv.port, { path: '/healthz', ca, cert: tiny });
    const cases: [number, Parameters<typeof edgeCall>[1]][] = [
      [200, { path: '/vuln?org=org1', ca, cert: t.customer }],
      [
        201,
        {
          method: 'POST',
          path: '/vuln',
          ca,
          cert: t.scanner,
          headers: json,
          body: JSON.stringify(demoRecord()),
        },
      ],
      [400, { path: '/vuln', ca, cert: t.customer }],
      [403, { path: '/vuln?org=org5', ca, cert: t.customer }],
      [404, { path: '/nowhere', ca, cert: t.customer }],
      [405, { method: 'DELETE', path: '/vuln', ca, cert: t.customer }],
      [
        413,
        {
          method: 'POST',
          path: '/vuln',
          ca,
          cert: t.scanner,
          headers: json,
          body: 'x'.repeat(4096),
        },
      ],
      [
        415,
        {
          method: 'POST',
          path: '/vuln',
          ca,
          cert: t.scanner,
          headers: { 'content-type': 'text/xml' },
          body: '<a/>',
        },
      ],
      [429, { path: '/healthz', ca, cert: tiny }],
    ];
    for (const [status, c] of cases) {
      const r = await edgeCall(srv.port, c);
      assert.equal(r.status, status, `${c.method ?? 'GET'} ${c.path}`);
      assert.equal(r.headers['cache-control'], 'no-store', `${status}`);
      assert.equal(r.headers['x-content-type-options'], 'nosniff', `${status}`);
      assert.match(String(r.headers['strict-transport-security']), /^max-age=\d+/, `${status}`);
      assert.equal(r.headers['x-powered-by'], undefined, `${status}`);
      assert.ok(r.headers['x-request-id'], `${status}`);
    }
  });
});
