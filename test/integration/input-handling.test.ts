// CSH 1.1 / CSH 1.3 at the edge: 415 for unsupported media, 413 over the body
// limit, 400 naming the failing field, one error shape with a stable code and
// the request id, and batches that are stored all-or-nothing.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  call,
  countFindings,
  demoRecord,
  makeTestDir,
  postJson,
  startVault,
  type RunningVault,
  type TestDir,
} from '../helpers/vault.js';

describe('input handling on POST /vuln and GET /vuln', () => {
  let t: TestDir;
  let srv: RunningVault;
  const count = () => countFindings(t.dir);

  before(async () => {
    t = await makeTestDir();
    srv = await startVault(t.config);
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });

  const post = (body: unknown) => postJson(srv.port, t.ca.certPem, t.scanner, body);

  function assertError(
    res: { status: number; json: any; headers: any },
    status: number,
    code: string,
  ) {
    assert.equal(res.status, status, JSON.stringify(res.json));
    assert.deepEqual(Object.keys(res.json).sort(), ['code', 'message', 'requestId']);
    assert.equal(res.json.code, code);
    assert.equal(res.json.requestId, res.headers['x-request-id']);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  }

  it('answers 415 for a media type the contract does not declare', async () => {
    for (const ct of [
      'text/plain',
      'application/xml',
      'application/x-www-form-urlencoded',
      'application/json; charset=latin1',
    ]) {
      const res = await call(srv.port, {
        method: 'POST',
        path: '/vuln',
        ca: t.ca.certPem,
        cert: t.scanner,
        body: JSON.stringify(demoRecord()),
        headers: { 'content-type': ct },
      });
      assertError(res, 415, 'unsupported_media_type');
    }
    const none = await call(srv.port, {
      method: 'POST',
      path: '/vuln',
      ca: t.ca.certPem,
      cert: t.scanner,
      body: '{}',
    });
    assertError(none, 415, 'unsupported_media_type');
  });

  it('answers 413 over the body limit and stores nothing', async () => {
    const before = count();
    // 3 MiB of well-formed records: over the default 2 MiB limit.
    const big = Array.from({ length: 7000 }, (_, i) =>
      demoRecord({ VulnID: `BIG-${i}`, Org: 'org2', PluginName: 'x'.repeat(255) }),
    );
    const res = await post(big);
    assertError(res, 413, 'payload_too_large');
    assert.match(res.json.message, /2097152 bytes/);
    assert.equal(count(), before);
  });

  it('answers 400 naming the failing field, without echoing its value', async () => {
    const cases: [unknown, RegExp][] = [
      [demoRecord({ VulnID: 'bad/id' }), /body\.VulnID must match pattern/],
      [demoRecord({ Org: 'org1;DROP' }), /body\.Org must match pattern/],
      [demoRecord({ DueDate: '2026-12-31' }), /body\.DueDate must match pattern/],
      [demoRecord({ PluginId: '19506' }), /body\.PluginId must be integer/],
      [demoRecord({ Priority: 'P 1' }), /body\.Priority must match pattern/],
      [
        demoRecord({ AssetName: 'a'.repeat(256) }),
        /body\.AssetName must NOT have more than 255 characters/,
      ],
      [{ ...demoRecord(), Extra: 'x' }, /body has unknown property 'Extra'/],
      [(({ Priority: _p, ...r }) => r)(demoRecord()), /missing required property 'Priority'/],
      [
        [demoRecord({ VulnID: 'ok-1' }), demoRecord({ VulnID: 'ok-2', PluginName: 'bad!' })],
        /body\[1\]\.PluginName must match pattern/,
      ],
      [[], /fewer than 1 items/],
      [
        Array.from({ length: 1001 }, (_, i) => demoRecord({ VulnID: `M-${i}` })),
        /more than 1000 items/,
      ],
    ];
    for (const [body, msg] of cases) {
      const res = await post(body);
      assertError(res, 400, 'validation_failed');
      assert.match(res.json.message, msg);
      assert.doesNotMatch(res.json.message, /bad\/id|DROP|bad!/);
    }
  });

  it('rejects impossible calendar dates', async () => {
    const res = await post(demoRecord({ DueDate: '02-30-2026' }));
    assertError(res, 400, 'invalid_date');
  });

  it('rejects malformed JSON and prototype-poisoning keys', async () => {
    const raw = (body: string) =>
      call(srv.port, {
        method: 'POST',
        path: '/vuln',
        ca: t.ca.certPem,
        cert: t.scanner,
        body,
        headers: { 'content-type': 'application/json' },
      });
    assertError(await raw('{"VulnID":'), 400, 'invalid_json');
    const poisoned = await raw(
      JSON.stringify(demoRecord()).replace('{', '{"__proto__":{"admin":true},'),
    );
    assertError(poisoned, 400, 'invalid_json');
    assert.match(poisoned.json.message, /forbidden key/);
  });

  it('stores a batch all-or-nothing: one bad or unauthorized record stores none', async () => {
    const good = (i: number) => demoRecord({ VulnID: `BATCH-${i}`, Org: 'org2' });
    const badDate = [
      good(1),
      good(2),
      demoRecord({ VulnID: 'BATCH-3', Org: 'org2', DueDate: '02-31-2026' }),
    ];
    assertError(await post(badDate), 400, 'invalid_date');
    const unauthorized = [good(1), good(2), demoRecord({ VulnID: 'BATCH-3', Org: 'org7' })];
    const denied = await post(unauthorized);
    assertError(denied, 403, 'forbidden');
    assert.match(denied.json.message, /org7/);
    const dup = [good(1), good(2), good(1)];
    assertError(await post(dup), 400, 'duplicate_in_batch');
    assert.equal(countFindings(t.dir, 'org2'), 0);

    assert.equal((await post([good(1), good(2)])).status, 201);
    const conflict = await post([good(3), good(2)]);
    assertError(conflict, 409, 'vuln_exists');
    assert.match(conflict.json.message, /record 1/);
    assert.equal(countFindings(t.dir, 'org2'), 2);
  });

  it('stores a batch of 1,000 records in one request', async () => {
    const batch = Array.from({ length: 1000 }, (_, i) =>
      demoRecord({ VulnID: `K-${i}`, Org: 'org3' }),
    );
    const res = await post(batch);
    assert.equal(res.status, 201);
    assert.deepEqual(res.json, { stored: 1000 });
    assert.equal(countFindings(t.dir, 'org3'), 1000);
  });

  it('validates query parameters', async () => {
    const get = (q: string) =>
      call(srv.port, { path: `/vuln${q}`, ca: t.ca.certPem, cert: t.customer });
    assertError(await get(''), 400, 'validation_failed');
    assertError(await get('?org=org1&limit=0'), 400, 'validation_failed');
    assertError(await get('?org=org1&limit=1001'), 400, 'validation_failed');
    assertError(await get('?org=org1&limit=ten'), 400, 'validation_failed');
    assertError(await get('?org=org1&org=org5'), 400, 'validation_failed');
    assertError(await get('?org=org1&debug=1'), 400, 'validation_failed');
    assertError(await get('?org=org1&cursor=bm90LWEtY3Vyc29y'), 400, 'invalid_cursor');
  });

  it('answers unknown routes and methods with the error shape', async () => {
    assertError(
      await call(srv.port, { path: '/admin', ca: t.ca.certPem, cert: t.customer }),
      404,
      'not_found',
    );
    assertError(
      await call(srv.port, { method: 'DELETE', path: '/vuln', ca: t.ca.certPem, cert: t.customer }),
      405,
      'method_not_allowed',
    );
  });

  it('serves /healthz with security headers and no data', async () => {
    const res = await call(srv.port, { path: '/healthz', ca: t.ca.certPem, cert: t.customer });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { status: 'ok' });
    assert.match(String(res.headers['strict-transport-security']), /max-age=\d+/);
    assert.equal(res.headers['x-powered-by'], undefined);
  });
});
