// Self-test of the conformance checks (no network, no runtime): proves that
// contract.ts and checked.ts fail on a body or a response that breaks the
// contract — a list item with an extra property or a wrong type, an unknown
// error code, a missing security header — and accept what conforms, so a
// green conformance run means something.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkResponse } from './checked.js';
import { OPERATIONS, expectConforms, matchRoute } from './contract.js';
import type { RuntimeResponse } from './runtime.js';

function listItem(overrides: Record<string, unknown> = {}) {
  return {
    id: '0190f1c2-7a6b-7cde-8f00-000000000001',
    org: 'acme',
    asset: 'web-01',
    scanner: 'nessus',
    pluginId: '10863',
    port: 443,
    protocol: 'tcp',
    title: 'SSL Certificate Information',
    severity: 'high',
    severityRaw: '3',
    cvss3Score: 7.5,
    cvss3Vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N',
    cvss2Score: null,
    cvss2Vector: null,
    cves: ['CVE-2024-0001'],
    service: 'www',
    category: '',
    fingerprint: '',
    location: '',
    analysis: null,
    status: 'open',
    firstSeen: '2026-01-01T00:00:00.000Z',
    lastSeen: '2026-01-02T00:00:00.000Z',
    fixedAt: null,
    dueDate: null,
    priority: null,
    etag: '"1"',
    active: true,
    dueAt: '2026-01-08T00:00:00.000Z',
    kev: null,
    epss: null,
    epssPercentile: null,
    ...overrides,
  };
}

const page = (items: unknown[]) => ({ org: 'acme', items, next: null });

describe('the contract checks (expectConforms)', () => {
  it('reads every operation of the contract, with its method and path template', () => {
    assert.deepEqual(
      OPERATIONS.map((o) => `${o.operationId} ${o.method} ${o.template}`).sort(),
      [
        'getHealth GET /healthz',
        'getVuln GET /vuln',
        'postVuln POST /vuln',
        'postScan POST /v1/orgs/{org}/scans',
        'listFindings GET /v1/orgs/{org}/findings',
        'getFinding GET /v1/orgs/{org}/findings/{id}',
        'getSummary GET /v1/orgs/{org}/summary',
        'putFindingAnalysis PUT /v1/orgs/{org}/findings/{id}/analysis',
        'postFindingsAnalysis POST /v1/orgs/{org}/findings/analysis',
        'getFindingHistory GET /v1/orgs/{org}/findings/{id}/history',
        'getVex GET /v1/orgs/{org}/vex',
      ].sort(),
    );
  });

  it('accepts a finding list as the contract describes it', () => {
    expectConforms('listFindings', 200, page([listItem()]));
  });

  it('fails on a list item with a property the contract does not have', () => {
    assert.throws(
      () => expectConforms('listFindings', 200, page([listItem({ secret: 'x' })])),
      (err: Error) => {
        assert.ok(err instanceof assert.AssertionError);
        assert.match(err.message, /\/items\/0 must NOT have additional properties 'secret'/);
        return true;
      },
    );
  });

  it('fails on a list item with a wrong type', () => {
    assert.throws(
      () => expectConforms('listFindings', 200, page([listItem({ port: '443' })])),
      /\/items\/0\/port must be integer/,
    );
  });

  it('honours OpenAPI nullable: null where the contract allows it, not elsewhere', () => {
    expectConforms('listFindings', 200, page([listItem({ cvss3Score: null, fixedAt: null })]));
    assert.throws(
      () => expectConforms('listFindings', 200, page([listItem({ title: null })])),
      /\/items\/0\/title must be string/,
    );
  });

  it("fails on GET /vuln items in a scan finding's shape (empty DueDate and Priority)", () => {
    const scanned = {
      VulnID: '0190f1c2-7a6b-7cde-8f00-000000000002',
      Org: 'acme',
      AssetName: 'web-01',
      DueDate: '',
      PluginId: 0,
      PluginName: 'Device Type',
      Priority: '',
    };
    assert.throws(
      () => expectConforms('getVuln', 200, page([scanned])),
      /\/items\/0\/DueDate must match pattern[\s\S]*\/items\/0\/Priority/,
    );
  });

  it('checks errors against the Error schema: a code outside the catalogue fails', () => {
    const error = { code: 'forbidden', message: 'no grant', requestId: 'r-1' };
    expectConforms('getVuln', 403, error);
    expectConforms(undefined, 404, { ...error, code: 'not_found' });
    assert.throws(
      () => expectConforms('getVuln', 403, { ...error, code: 'nope' }),
      /\/code must be equal to one of the allowed values/,
    );
    assert.throws(
      () => expectConforms('getFinding', 404, { ...error, stack: 'at x' }),
      /must NOT have additional properties 'stack'/,
    );
  });

  it("uses an operation's default response for a status it does not list", () => {
    expectConforms('getHealth', 503, {
      code: 'policy_unavailable',
      message: 'x',
      requestId: 'r',
    });
    assert.throws(() => expectConforms('getHealth', 503, { status: 'ok' }), /must have required/);
  });
});

describe('route matching (matchRoute)', () => {
  it('names the operation and its path parameters, decoded', () => {
    const m = matchRoute('GET', '/v1/orgs/acme%20corp/findings/abc-1?x=1');
    assert.equal(m.kind, 'operation');
    assert.ok(m.kind === 'operation');
    assert.equal(m.operation.operationId, 'getFinding');
    assert.deepEqual(m.pathParameters, { org: 'acme corp', id: 'abc-1' });
  });

  it('tells a method the path does not have from a path the contract does not have', () => {
    assert.equal(matchRoute('DELETE', '/vuln').kind, 'method_not_allowed');
    assert.equal(matchRoute('GET', '/v1/orgs/acme/scans').kind, 'method_not_allowed');
    assert.equal(matchRoute('GET', '/v1/orgs/acme').kind, 'not_found');
    assert.equal(matchRoute('GET', '/v1/orgs//findings').kind, 'not_found');
  });
});

describe('the response gate (checkResponse)', () => {
  const ok = (): RuntimeResponse => ({
    status: 200,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-request-id': 'r-1',
    },
    text: '{"status":"ok"}',
    json: { status: 'ok' },
  });
  const req = { method: 'GET', path: '/healthz' };

  it('accepts a conforming response', () => {
    checkResponse('test', req, ok());
  });

  it('fails without nosniff, no-store, a request id, or a JSON content type', () => {
    for (const [header, value] of [
      ['x-content-type-options', undefined],
      ['cache-control', 'max-age=60'],
      ['x-request-id', ''],
      ['content-type', 'text/html'],
      ['strict-transport-security', undefined],
    ] as const) {
      const res = ok();
      if (value === undefined) delete res.headers[header];
      else res.headers[header] = value;
      assert.throws(() => checkResponse('test', req, res), new RegExp(header), header);
    }
  });

  it('fails on a body that is not JSON, or not the one the contract gives the status', () => {
    assert.throws(
      () => checkResponse('test', req, { ...ok(), text: 'ok', json: undefined }),
      /not JSON/,
    );
    assert.throws(
      () => checkResponse('test', req, { ...ok(), json: { status: 'ok', uptime: 3 } }),
      /additional properties 'uptime'/,
    );
  });

  it("fails on an error whose body's requestId is not the header's", () => {
    const res: RuntimeResponse = {
      ...ok(),
      status: 404,
      json: { code: 'not_found', message: 'no such route', requestId: 'r-2' },
    };
    assert.throws(
      () => checkResponse('test', { method: 'GET', path: '/nope' }, res),
      /requestId is the x-request-id header/,
    );
  });
});
