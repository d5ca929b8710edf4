// CSH 1.2: usage plans with token buckets per principal, a global bucket and
// quotas that survive a restart. Over the limit → 429 with Retry-After,
// RateLimit-Policy and RateLimit; a throttled request is never authorized
// (no authorization-log line) nor executed (nothing stored).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { edgeCall, startEdge, withConfig } from '../helpers/edge.js';
import {
  countFindings,
  demoRecord,
  makeTestDir,
  readAuthzLog,
  type RunningVault,
  type TestDir,
} from '../helpers/vault.js';

// Refill so slow that no token comes back during a test.
const SLOW = 0.001;

describe('throttling and usage plans', () => {
  let t: TestDir;
  let srv: RunningVault;
  before(async () => {
    t = await makeTestDir();
    srv = await startEdge(
      withConfig(t.config, {
        throttle: {
          global: { rate: 1000, burst: 1000 },
          defaultPlan: 'standard',
          plans: {
            standard: { rate: 1000, burst: 1000 },
            tiny: { rate: SLOW, burst: 2 },
            daily: { rate: 1000, burst: 1000, quota: { limit: 3, period: 'day' } },
          },
          assignments: { scanner: 'tiny', customer: 'daily' },
        },
      }),
    );
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });

  const post = (vulnId: string) =>
    edgeCall(srv.port, {
      method: 'POST',
      path: '/vuln',
      ca: t.ca.certPem,
      cert: t.scanner,
      body: JSON.stringify(demoRecord({ VulnID: vulnId })),
      headers: { 'content-type': 'application/json' },
    });

  it('answers 429 with Retry-After and RateLimit headers once the burst is spent', async () => {
    const a = await post('T-1');
    assert.equal(a.status, 201);
    assert.equal(a.headers['ratelimit-policy'], '"tiny";q=2;w=2000');
    assert.match(String(a.headers.ratelimit), /^"tiny";r=1;t=\d+$/);
    assert.equal((await post('T-2')).status, 201);
    const over = await post('T-3');
    assert.equal(over.status, 429);
    assert.equal(over.json.code, 'rate_limited');
    assert.match(over.json.message, /usage plan "tiny"/);
    assert.ok(Number(over.headers['retry-after']) >= 1);
    assert.equal(over.headers['ratelimit-policy'], '"tiny";q=2;w=2000');
    assert.match(String(over.headers.ratelimit), /^"tiny";r=0;t=\d+$/);
    assert.equal(over.headers['cache-control'], 'no-store');
  });

  it('never authorizes nor executes a throttled request', async () => {
    const over = await post('T-4');
    assert.equal(over.status, 429);
    assert.equal(countFindings(t.dir), 2, 'only the two admitted records');
    const log = readAuthzLog(t.dir);
    assert.equal(log.filter((e) => e.requestId === over.json.requestId).length, 0);
    assert.equal(log.filter((e) => e.action === 'findings:write').length, 2);
  });

  it('keeps one principal within its plan without slowing another', async () => {
    const r = await edgeCall(srv.port, {
      path: '/vuln?org=org1',
      ca: t.ca.certPem,
      cert: t.customer,
    });
    assert.equal(r.status, 200);
  });

  it('enforces a daily quota that survives a restart', async () => {
    const get = (port: number) =>
      edgeCall(port, { path: '/vuln?org=org1', ca: t.ca.certPem, cert: t.customer });
    // One request was made by the previous test; the quota is 3 a day.
    const second = await get(srv.port);
    assert.equal(second.status, 200);
    assert.match(String(second.headers.ratelimit), /"daily-day";r=1;t=\d+/);
    assert.equal((await get(srv.port)).status, 200);
    const over = await get(srv.port);
    assert.equal(over.status, 429);
    assert.equal(over.json.code, 'quota_exceeded');
    assert.ok(Number(over.headers['retry-after']) > 0);
    assert.ok(Number(over.headers['retry-after']) <= 86_400);
    assert.match(String(over.headers['ratelimit-policy']), /"daily-day";q=3;w=86400/);

    await srv.close();
    srv = await startEdge(
      withConfig(t.config, {
        throttle: {
          global: { rate: 1000, burst: 1000 },
          defaultPlan: 'standard',
          plans: {
            standard: { rate: 1000, burst: 1000 },
            daily: { rate: 1000, burst: 1000, quota: { limit: 3, period: 'day' } },
          },
          assignments: { customer: 'daily' },
        },
      }),
    );
    const afterRestart = await get(srv.port);
    assert.equal(afterRestart.status, 429);
    assert.equal(afterRestart.json.code, 'quota_exceeded');
    // The scanner's plan is now the default one: not throttled.
    assert.equal((await post('T-5')).status, 201);
  });
});

describe('global throttle', () => {
  let t: TestDir;
  let srv: RunningVault;
  before(async () => {
    t = await makeTestDir();
    srv = await startEdge(withConfig(t.config, { throttle: { global: { rate: SLOW, burst: 3 } } }));
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });

  it('caps all principals together', async () => {
    const statuses = [];
    for (const cert of [t.customer, t.scanner, t.customer, t.scanner]) {
      const r = await edgeCall(srv.port, { path: '/healthz', ca: t.ca.certPem, cert });
      statuses.push(r.status);
      if (r.status === 429) {
        assert.equal(r.json.code, 'rate_limited');
        assert.match(String(r.headers['ratelimit-policy']), /^"global";q=3;w=\d+$/);
        assert.ok(Number(r.headers['retry-after']) >= 1);
      }
    }
    assert.deepEqual(statuses, [200, 200, 200, 429]);
  });
});
