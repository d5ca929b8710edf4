// Issue 12, part 4: one table of HTTP-level cases, run unchanged against both
// runtimes — the local edge (real TLS, real SQLite) and the Lambda entries
// behind an emulated API Gateway (real DynamoDB Local; only S3 is mocked,
// for the authorizer's truststore and CRL). Each case expects the same status
// and error code on both. Every response goes through checked.ts: body
// against the contract's schema, security headers, request id. The last test
// per runtime proves that every operation of the contract was exercised with
// a 2xx and a 4xx answer, so a new route without cases fails the suite.
// Runtime-specific code lives only in runtime-edge.ts and runtime-lambda.ts.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SEVERITIES } from '../../src/core/finding.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nativeBatch, sample } from '../helpers/scans.js';
import { demoRecord } from '../helpers/vault.js';
import { checked, type CheckedApi } from './checked.js';
import { OPERATIONS } from './contract.js';
import { startEdgeRuntime } from './runtime-edge.js';
import { startLambdaRuntime } from './runtime-lambda.js';
import type { Caller, RuntimeRequest, RuntimeResponse, StartRuntime } from './runtime.js';

const RUNTIMES: [string, StartRuntime][] = [
  ['edge', startEdgeRuntime],
  ['lambda', startLambdaRuntime],
];

const XML = 'application/vnd.tenable.nessus+xml';
const JSON_TYPE = { 'content-type': 'application/json' };

/** What a case runs with; the orgs are its own (unique per case). */
interface Ctx {
  api: CheckedApi;
  /** The scanner may write it, the customer may read it. */
  org: string;
  /** A second such org. */
  org2: string;
  /** The scanner may write it; the customer may not read it. */
  other: string;
  /** Nobody may do anything on it. */
  closed: string;
}

interface Case {
  it: string;
  /** Steps before the request under test; their responses are checked too. */
  given?: (c: Ctx) => Promise<any>;
  when: (c: Ctx, given: any) => RuntimeRequest;
  then: {
    status: number;
    /** The error body's code. */
    code?: string;
    /** What the error message must say. */
    message?: RegExp;
    /** `idempotent-replayed: true` */
    replayed?: true;
  };
  and?: (res: RuntimeResponse, c: Ctx, given: any) => void | Promise<void>;
}

// ---- request builders and checked steps -------------------------------------

function vulnRecord(org: string, n: number) {
  return demoRecord({
    VulnID: `VULN-${String(n).padStart(4, '0')}`,
    Org: org,
    AssetName: `web-${String(n).padStart(2, '0')}`,
    PluginId: 19506 + n,
  });
}

function postVuln(
  body: unknown,
  as: Caller = 'scanner',
  headers: Record<string, string> = {},
): RuntimeRequest {
  return {
    method: 'POST',
    path: '/vuln',
    headers: { ...JSON_TYPE, ...headers },
    body: JSON.stringify(body),
    as,
  };
}

/** A real scanner export from test/fixtures/<dir>/. */
function fixture(dir: string, file: string): Buffer {
  return readFileSync(join(import.meta.dirname, '..', 'fixtures', dir, file));
}

function postScan(
  org: string,
  body: string | Buffer,
  contentType: string,
  as: Caller = 'scanner',
  headers: Record<string, string> = {},
): RuntimeRequest {
  return {
    method: 'POST',
    path: `/v1/orgs/${encodeURIComponent(org)}/scans`,
    headers: { 'content-type': contentType, ...headers },
    body,
    as,
  };
}

const get = (path: string, as: Caller = 'customer'): RuntimeRequest => ({
  method: 'GET',
  path,
  as,
});

async function expectOk(c: Ctx, r: RuntimeRequest, status: number): Promise<RuntimeResponse> {
  const res = await c.api.send(r);
  assert.equal(
    res.status,
    status,
    `${c.api.runtime.name}: given ${r.method} ${r.path}: ${res.text}`,
  );
  return res;
}

async function seedVulns(c: Ctx, records: ReturnType<typeof vulnRecord>[]) {
  const res = await expectOk(c, postVuln(records), 201);
  assert.deepEqual(res.json, { stored: records.length });
  return records;
}

async function seedScan(c: Ctx, org: string, body: string | Buffer, contentType: string) {
  return (await expectOk(c, postScan(org, body, contentType), 201)).json;
}

async function listFindings(c: Ctx, org: string, query = 'limit=1000'): Promise<any[]> {
  return (await expectOk(c, get(`/v1/orgs/${org}/findings?${query}`), 200)).json.items;
}

const twoFindings = nativeBatch([
  {
    asset: 'db-01',
    pluginId: '10863',
    title: 'SSL Certificate Information',
    severity: 'high',
    cves: ['CVE-2024-0001'],
  },
  { asset: 'db-01', pluginId: '57582', title: 'SSL Self-Signed Certificate' },
]);

const log4jFinding = nativeBatch([
  {
    asset: 'shop-backend',
    pluginId: 'CVE-2021-44228',
    title: 'log4j-core: Log4Shell',
    severity: 'critical',
    cves: ['CVE-2021-44228'],
    location: 'pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2',
    fingerprint: 'pkg:maven/org.apache.logging.log4j/log4j-core',
  },
]);

/** A finding of twoFindings in c.org (its list item, with its etag). */
async function firstFinding(c: Ctx): Promise<any> {
  await seedScan(c, c.org, twoFindings, 'application/json');
  return (await listFindings(c, c.org))[0];
}

function putAnalysis(
  org: string,
  id: string,
  ifMatch: string | undefined,
  body: unknown,
  as: Caller = 'customer',
): RuntimeRequest {
  return {
    method: 'PUT',
    path: `/v1/orgs/${org}/findings/${id}/analysis`,
    headers: { ...JSON_TYPE, ...(ifMatch === undefined ? {} : { 'if-match': ifMatch }) },
    body: JSON.stringify(body),
    as,
  };
}

function bulkAnalysis(org: string, body: unknown, as: Caller = 'customer'): RuntimeRequest {
  return {
    method: 'POST',
    path: `/v1/orgs/${org}/findings/analysis`,
    headers: JSON_TYPE,
    body: JSON.stringify(body),
    as,
  };
}

const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();

// ---- the cases ---------------------------------------------------------------

const CASES: Record<string, Case[]> = {
  'GET /healthz (getHealth)': [
    {
      it: 'answers 200 {status: "ok"}',
      when: () => get('/healthz', 'stranger'),
      then: { status: 200 },
      and: (res) => assert.deepEqual(res.json, { status: 'ok' }),
    },
    {
      it: 'refuses an unknown query parameter (400 validation_failed)',
      when: () => get('/healthz?verbose=1', 'stranger'),
      then: { status: 400, code: 'validation_failed' },
    },
  ],

  'POST /vuln (postVuln)': [
    {
      it: 'stores one record (201, stored: 1) that the customer then reads back',
      when: (c) => postVuln(vulnRecord(c.org, 1)),
      then: { status: 201 },
      and: async (res, c) => {
        assert.deepEqual(res.json, { stored: 1 });
        const page = await expectOk(c, get(`/vuln?org=${c.org}`), 200);
        assert.deepEqual(page.json.items, [vulnRecord(c.org, 1)]);
      },
    },
    {
      it: 'stores a batch of three records (201, stored: 3)',
      when: (c) => postVuln([1, 2, 3].map((n) => vulnRecord(c.org, n))),
      then: { status: 201 },
      and: (res) => assert.deepEqual(res.json, { stored: 3 }),
    },
    {
      it: 'refuses a record with an unknown property (400 validation_failed), storing nothing',
      when: (c) => postVuln({ ...vulnRecord(c.org, 1), Extra: 1 }),
      then: { status: 400, code: 'validation_failed', message: /Extra/ },
      and: async (_res, c) => {
        const page = await expectOk(c, get(`/vuln?org=${c.org}`), 200);
        assert.deepEqual(page.json.items, []);
      },
    },
    {
      it: 'refuses a body that is not JSON (400 invalid_json)',
      when: () => ({ ...postVuln({}), body: '{"VulnID": ' }),
      then: { status: 400, code: 'invalid_json' },
    },
    {
      it: 'refuses text/plain (415 unsupported_media_type)',
      when: (c) => postVuln(vulnRecord(c.org, 1), 'scanner', { 'content-type': 'text/plain' }),
      then: { status: 415, code: 'unsupported_media_type' },
    },
    {
      it: 'refuses the customer, who may only read (403 forbidden)',
      when: (c) => postVuln(vulnRecord(c.org, 1), 'customer'),
      then: { status: 403, code: 'forbidden' },
    },
    {
      it: 'refuses a caller granted nothing (403 forbidden)',
      when: (c) => postVuln(vulnRecord(c.org, 1), 'stranger'),
      then: { status: 403, code: 'forbidden' },
    },
    {
      it: 'refuses a whole batch when one record is in an org the scanner may not write (403 forbidden)',
      when: (c) => postVuln([vulnRecord(c.org, 1), vulnRecord(c.closed, 2)]),
      then: { status: 403, code: 'forbidden' },
      and: async (_res, c) => {
        const page = await expectOk(c, get(`/vuln?org=${c.org}`), 200);
        assert.deepEqual(page.json.items, [], 'nothing of the batch was stored');
      },
    },
    {
      it: 'refuses a record already stored (409 vuln_exists)',
      given: (c) => seedVulns(c, [vulnRecord(c.org, 1)]),
      when: (c) => postVuln(vulnRecord(c.org, 1)),
      then: { status: 409, code: 'vuln_exists' },
    },
    {
      it: 'replays the first answer for the same Idempotency-Key and body',
      given: async (c) =>
        expectOk(
          c,
          postVuln(vulnRecord(c.org, 1), 'scanner', { 'Idempotency-Key': `seed-${c.org}` }),
          201,
        ),
      when: (c) =>
        postVuln(vulnRecord(c.org, 1), 'scanner', { 'Idempotency-Key': `seed-${c.org}` }),
      then: { status: 201, replayed: true },
      and: (res, _c, first: RuntimeResponse) => {
        assert.equal(first.headers['idempotent-replayed'], undefined);
        assert.equal(res.text, first.text, 'the same body, byte for byte');
      },
    },
    {
      it: 'refuses the same Idempotency-Key with another body (422 idempotency_key_reused)',
      given: (c) =>
        expectOk(
          c,
          postVuln(vulnRecord(c.org, 1), 'scanner', { 'Idempotency-Key': `seed-${c.org}` }),
          201,
        ),
      when: (c) =>
        postVuln(vulnRecord(c.org, 2), 'scanner', { 'Idempotency-Key': `seed-${c.org}` }),
      then: { status: 422, code: 'idempotency_key_reused' },
    },
  ],

  'GET /vuln (getVuln)': [
    {
      it: 'lists the stored records oldest first, one page at a time (next → cursor)',
      given: (c) => seedVulns(c, [vulnRecord(c.org, 1), vulnRecord(c.org, 2)]),
      when: (c) => get(`/vuln?org=${c.org}&limit=1`),
      then: { status: 200 },
      and: async (res, c) => {
        assert.deepEqual(res.json.items, [vulnRecord(c.org, 1)]);
        assert.equal(res.json.org, c.org);
        assert.equal(typeof res.json.next, 'string');
        const second = await expectOk(
          c,
          get(`/vuln?org=${c.org}&limit=1&cursor=${res.json.next}`),
          200,
        );
        assert.deepEqual(second.json.items, [vulnRecord(c.org, 2)]);
        const rest = second.json.next
          ? (await expectOk(c, get(`/vuln?org=${c.org}&cursor=${second.json.next}`), 200)).json
          : { items: [], next: null };
        assert.deepEqual(rest.items, []);
        assert.equal(rest.next, null);
      },
    },
    {
      // Decided: GET /vuln serves the records stored through POST /vuln only;
      // scan findings are served by /v1/orgs/{org}/findings.
      it: 'returns only the records stored through POST /vuln, not the findings of a scan upload',
      given: async (c) => {
        await seedVulns(c, [vulnRecord(c.org, 1)]);
        const scan = await seedScan(c, c.org, sample('nessus_many_vuln.xml'), 'application/xml');
        assert.equal(scan.new, 7);
      },
      when: (c) => get(`/vuln?org=${c.org}&limit=1000`),
      then: { status: 200 },
      and: (res, c) => assert.deepEqual(res.json.items, [vulnRecord(c.org, 1)]),
    },
    {
      it: 'refuses an unknown query parameter (400 validation_failed)',
      when: (c) => get(`/vuln?org=${c.org}&bogus=1`),
      then: { status: 400, code: 'validation_failed', message: /bogus/ },
    },
    {
      it: 'says in words that limit must be between 1 and 1000 (400 validation_failed)',
      when: (c) => get(`/vuln?org=${c.org}&limit=0`),
      then: { status: 400, code: 'validation_failed', message: /between 1 and 1000/ },
    },
    {
      it: 'refuses a cursor it never issued (400 invalid_cursor)',
      when: (c) => get(`/vuln?org=${c.org}&cursor=bm90LWEtY3Vyc29y`),
      then: { status: 400, code: 'invalid_cursor' },
    },
    {
      it: "refuses another org's cursor (400 invalid_cursor)",
      given: async (c) => {
        await seedVulns(c, [vulnRecord(c.org2, 1), vulnRecord(c.org2, 2)]);
        const page = await expectOk(c, get(`/vuln?org=${c.org2}&limit=1`), 200);
        assert.equal(typeof page.json.next, 'string');
        return page.json.next as string;
      },
      when: (c, cursor: string) => get(`/vuln?org=${c.org}&cursor=${cursor}`),
      then: { status: 400, code: 'invalid_cursor' },
    },
    {
      it: 'refuses the customer an org it has no grant on (403 forbidden)',
      given: (c) => seedVulns(c, [vulnRecord(c.other, 1)]),
      when: (c) => get(`/vuln?org=${c.other}`),
      then: { status: 403, code: 'forbidden' },
      and: (res) => assert.equal(res.json.items, undefined),
    },
    {
      it: 'refuses the scanner, which may only write (403 forbidden)',
      when: (c) => get(`/vuln?org=${c.org}`, 'scanner'),
      then: { status: 403, code: 'forbidden' },
    },
  ],

  'POST /v1/orgs/{org}/scans (postScan)': [
    {
      it: 'imports a real Nessus v2 XML export: 49 received, 48 new',
      when: (c) => postScan(c.org, sample('nessus_with_cvssv3.nessus'), XML),
      then: { status: 201 },
      and: (res) => {
        const { scanId: _s, durationMs: _d, ...counts } = res.json;
        assert.deepEqual(counts, {
          format: 'nessus-xml',
          received: 49,
          new: 48,
          updated: 0,
          unchanged: 0,
          fixed: 0,
          reopened: 0,
          targets: ['testphp.vulnweb.com'],
          targetCount: 1,
        });
      },
    },
    {
      it: 'imports a real Nessus CSV export: 5 received, 5 new',
      when: (c) => postScan(c.org, sample('nessus-template.csv'), 'text/csv'),
      then: { status: 201 },
      and: (res) => {
        assert.equal(res.json.received, 5);
        assert.equal(res.json.new, 5);
      },
    },
    {
      it: 'imports a native JSON batch, and only moves lastSeen when it comes again',
      given: (c) => seedScan(c, c.org, twoFindings, 'application/json'),
      when: (c) => postScan(c.org, twoFindings, 'application/json'),
      then: { status: 201 },
      and: (res, _c, first) => {
        assert.equal(first.new, 2);
        assert.equal(res.json.new, 0);
        assert.equal(res.json.unchanged, 2);
      },
    },
    {
      it: 'refuses a native finding with an unknown property (400 validation_failed), storing nothing',
      when: (c) => {
        const body = JSON.parse(twoFindings);
        body.findings[1].secret = 'x';
        return postScan(c.org, JSON.stringify(body), 'application/json');
      },
      then: { status: 400, code: 'validation_failed', message: /secret/ },
      and: async (_res, c) => assert.deepEqual(await listFindings(c, c.org), []),
    },
    {
      it: 'refuses a native batch that is not JSON (400 invalid_json)',
      when: (c) => postScan(c.org, '{"findings":[{"asset": }]}', 'application/json'),
      then: { status: 400, code: 'invalid_json' },
    },
    {
      it: 'refuses XML with a DOCTYPE (400 xml_doctype_forbidden)',
      when: (c) =>
        postScan(
          c.org,
          '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><NessusClientData_v2/>',
          XML,
        ),
      then: { status: 400, code: 'xml_doctype_forbidden' },
    },
    {
      it: 'detects a real Grype report sent as application/json; ?target= names its target',
      when: (c) => ({
        ...postScan(c.org, fixture('grype', 'many_vulns4.json'), 'application/json'),
        path: `/v1/orgs/${encodeURIComponent(c.org)}/scans?target=components`,
      }),
      then: { status: 201 },
      and: (res) => {
        assert.deepEqual(
          [res.json.format, res.json.received, res.json.new, res.json.targets],
          ['grype', 9, 9, ['components']],
        );
      },
    },
    {
      it: 'refuses a JSON body no format recognises (415 unsupported_format), storing nothing',
      when: (c) => postScan(c.org, '{"report":{"items":[]}}', 'application/json'),
      then: { status: 415, code: 'unsupported_format' },
      and: async (_res, c) => assert.deepEqual(await listFindings(c, c.org), []),
    },
    {
      it: 'refuses a Gitleaks report without ?target= (400 scan_target_missing)',
      when: (c) => postScan(c.org, fixture('gitleaks', 'gitleaks8_many.json'), 'application/json'),
      then: { status: 400, code: 'scan_target_missing' },
    },
    {
      it: 'refuses application/x-foo (415 unsupported_media_type)',
      when: (c) => postScan(c.org, twoFindings, 'application/x-foo'),
      then: { status: 415, code: 'unsupported_media_type' },
    },
    {
      it: 'refuses the customer, who may only read (403 forbidden), storing nothing',
      when: (c) => postScan(c.org, twoFindings, 'application/json', 'customer'),
      then: { status: 403, code: 'forbidden' },
      and: async (_res, c) => assert.deepEqual(await listFindings(c, c.org), []),
    },
    {
      it: 'refuses a caller granted nothing (403 forbidden)',
      when: (c) => postScan(c.org, twoFindings, 'application/json', 'stranger'),
      then: { status: 403, code: 'forbidden' },
    },
    {
      it: 'replays the first answer for the same Idempotency-Key and body',
      given: (c) =>
        expectOk(
          c,
          postScan(c.org, twoFindings, 'application/json', 'scanner', {
            'Idempotency-Key': `nightly-${c.org}`,
          }),
          201,
        ),
      when: (c) =>
        postScan(c.org, twoFindings, 'application/json', 'scanner', {
          'Idempotency-Key': `nightly-${c.org}`,
        }),
      then: { status: 201, replayed: true },
      and: (res, _c, first: RuntimeResponse) => {
        assert.equal(first.headers['idempotent-replayed'], undefined);
        assert.equal(res.text, first.text, 'the same body, byte for byte');
      },
    },
    {
      it: 'refuses the same Idempotency-Key with another body (422 idempotency_key_reused)',
      given: (c) =>
        expectOk(
          c,
          postScan(c.org, twoFindings, 'application/json', 'scanner', {
            'Idempotency-Key': `nightly-${c.org}`,
          }),
          201,
        ),
      when: (c) =>
        postScan(
          c.org,
          nativeBatch([{ asset: 'db-02', pluginId: '1' }]),
          'application/json',
          'scanner',
          { 'Idempotency-Key': `nightly-${c.org}` },
        ),
      then: { status: 422, code: 'idempotency_key_reused' },
    },
  ],

  'GET /v1/orgs/{org}/findings (listFindings)': [
    {
      it: 'lists the findings of a scan, filtered by severity',
      given: (c) => seedScan(c, c.org, sample('nessus_with_cvssv3.nessus'), XML),
      when: (c) => get(`/v1/orgs/${c.org}/findings?severity=high&limit=1000`),
      then: { status: 200 },
      and: async (res, c) => {
        assert.equal(res.json.items.length, 10);
        assert.ok(res.json.items.every((f: any) => f.severity === 'high' && f.org === c.org));
        assert.equal(res.json.next, null);
        assert.equal((await listFindings(c, c.org)).length, 48);
      },
    },
    {
      it: 'pages with next → cursor under the same filters, oldest first',
      given: (c) => seedScan(c, c.org, sample('nessus-template.csv'), 'text/csv'),
      when: (c) => get(`/v1/orgs/${c.org}/findings?limit=2`),
      then: { status: 200 },
      and: async (res, c) => {
        const pages = [res.json.items];
        let next: string | null = res.json.next;
        while (next !== null && pages.length < 10) {
          const page = await expectOk(
            c,
            get(`/v1/orgs/${c.org}/findings?limit=2&cursor=${next}`),
            200,
          );
          if (page.json.items.length > 0) pages.push(page.json.items);
          next = page.json.next;
        }
        assert.deepEqual(
          pages.map((p) => p.length),
          [2, 2, 1],
        );
        const all = await listFindings(c, c.org);
        assert.deepEqual(pages.flat(), all);
      },
    },
    {
      it: 'refuses a status outside the contract (400 validation_failed)',
      when: (c) => get(`/v1/orgs/${c.org}/findings?status=closed`),
      then: { status: 400, code: 'validation_failed', message: /status/ },
    },
    {
      it: 'lists the allowed severities, in the catalogue order, when one is unknown (400 validation_failed)',
      when: (c) => get(`/v1/orgs/${c.org}/findings?severity=HIGH`),
      then: {
        status: 400,
        code: 'validation_failed',
        message: new RegExp(SEVERITIES.join(', ')),
      },
    },
    {
      it: 'says a parameter was given more than once (400 validation_failed)',
      when: (c) => get(`/v1/orgs/${c.org}/findings?severity=high&severity=low`),
      then: { status: 400, code: 'validation_failed', message: /twice|more than once/ },
    },
    {
      it: 'says in words that limit must be between 1 and 1000 (400 validation_failed)',
      when: (c) => get(`/v1/orgs/${c.org}/findings?limit=0`),
      then: { status: 400, code: 'validation_failed', message: /between 1 and 1000/ },
    },
    {
      it: 'refuses a cursor made for other filters (400 invalid_cursor)',
      given: async (c) => {
        await seedScan(c, c.org, twoFindings, 'application/json');
        const page = await expectOk(
          c,
          get(`/v1/orgs/${c.org}/findings?severity=medium&limit=1`),
          200,
        );
        return page.json.next as string;
      },
      when: (c, cursor: string) => get(`/v1/orgs/${c.org}/findings?severity=high&cursor=${cursor}`),
      then: { status: 400, code: 'invalid_cursor' },
    },
    {
      it: 'refuses the customer an org it has no grant on (403 forbidden)',
      given: (c) => seedScan(c, c.other, twoFindings, 'application/json'),
      when: (c) => get(`/v1/orgs/${c.other}/findings`),
      then: { status: 403, code: 'forbidden' },
    },
  ],

  'GET /v1/orgs/{org}/findings/{id} (getFinding)': [
    {
      it: 'returns one finding with description, solution and evidence',
      given: async (c) => {
        await seedScan(c, c.org, sample('nessus-template.csv'), 'text/csv');
        return (await listFindings(c, c.org))[0];
      },
      when: (c, item) => get(`/v1/orgs/${c.org}/findings/${item.id}`),
      then: { status: 200 },
      and: (res, _c, item) => {
        const { description, solution, evidence, ...rest } = res.json;
        assert.deepEqual(rest, item);
        for (const text of [description, solution, evidence]) assert.equal(typeof text, 'string');
        assert.ok(description.length > 0);
      },
    },
    {
      it: 'answers 404 not_found for an id the org does not have',
      when: (c) => get(`/v1/orgs/${c.org}/findings/0123456789abcdef`),
      then: { status: 404, code: 'not_found' },
    },
    {
      it: "answers 404 not_found for another org's finding, even to a reader of both",
      given: async (c) => {
        await seedScan(c, c.org, twoFindings, 'application/json');
        return (await listFindings(c, c.org))[0];
      },
      when: (c, item) => get(`/v1/orgs/${c.org2}/findings/${item.id}`),
      then: { status: 404, code: 'not_found' },
    },
    {
      it: 'refuses an id with characters outside the contract (400 validation_failed)',
      when: (c) => get(`/v1/orgs/${c.org}/findings/no_such_id`),
      then: { status: 400, code: 'validation_failed' },
    },
    {
      it: 'refuses the customer an org it has no grant on (403 forbidden)',
      given: async (c) => {
        await seedScan(c, c.org, twoFindings, 'application/json');
        return (await listFindings(c, c.org))[0];
      },
      when: (c, item) => get(`/v1/orgs/${c.other}/findings/${item.id}`),
      then: { status: 403, code: 'forbidden' },
    },
  ],

  'GET /v1/orgs/{org}/summary (getSummary)': [
    {
      it: 'counts findings by severity × status, with the top assets and CVEs',
      given: (c) => seedScan(c, c.org, sample('nessus_with_cvssv3.nessus'), XML),
      when: (c) => get(`/v1/orgs/${c.org}/summary`),
      then: { status: 200 },
      and: (res, c) => {
        assert.equal(res.json.org, c.org);
        const rows = [...res.json.bySeverityStatus].sort((a: any, b: any) =>
          a.severity.localeCompare(b.severity),
        );
        assert.deepEqual(rows, [
          { severity: 'critical', status: 'open', count: 1 },
          { severity: 'high', status: 'open', count: 10 },
          { severity: 'info', status: 'open', count: 23 },
          { severity: 'low', status: 'open', count: 1 },
          { severity: 'medium', status: 'open', count: 13 },
        ]);
        assert.equal(res.json.topAssets.length, 1);
        assert.equal(res.json.topAssets[0].open, 48);
        assert.equal(res.json.topCves.length, 10, 'the default top is 10');
      },
    },
    {
      it: 'refuses top=0 (400 validation_failed)',
      when: (c) => get(`/v1/orgs/${c.org}/summary?top=0`),
      then: { status: 400, code: 'validation_failed' },
    },
    {
      it: 'refuses the customer an org it has no grant on (403 forbidden)',
      when: (c) => get(`/v1/orgs/${c.other}/summary`),
      then: { status: 403, code: 'forbidden' },
    },
  ],

  'PUT /v1/orgs/{org}/findings/{id}/analysis (putFindingAnalysis)': [
    {
      it: "sets a person's analysis with the finding's ETag: 200, a new ETag, inactive, in the history",
      given: (c) => firstFinding(c),
      when: (c, f) =>
        putAnalysis(c.org, f.id, f.etag, { state: 'false_positive', comment: 'test host only' }),
      then: { status: 200 },
      and: async (res, c, f) => {
        assert.notEqual(res.headers.etag, f.etag);
        assert.equal(res.headers.etag, res.json.etag);
        assert.equal(res.json.analysis.state, 'false_positive');
        assert.equal(res.json.analysis.source, 'user');
        assert.equal(res.json.analysis.by, 'ou:customer');
        assert.equal(res.json.analysis.detail, 'test host only');
        assert.equal(res.json.active, false);
        const h = await expectOk(c, get(`/v1/orgs/${c.org}/findings/${f.id}/history`), 200);
        assert.deepEqual(
          h.json.items.map((e: any) => [e.kind, e.from, e.to]),
          [
            ['opened', null, 'open'],
            ['analysis', null, 'false_positive'],
          ],
        );
      },
    },
    {
      it: 'refuses a change without If-Match (428 precondition_required), changing nothing',
      given: (c) => firstFinding(c),
      when: (c, f) => putAnalysis(c.org, f.id, undefined, { state: 'false_positive' }),
      then: { status: 428, code: 'precondition_required', message: /If-Match/ },
      and: async (_res, c, f) => {
        const now = await expectOk(c, get(`/v1/orgs/${c.org}/findings/${f.id}`), 200);
        assert.equal(now.json.analysis, null);
        assert.equal(now.json.etag, f.etag);
      },
    },
    {
      it: 'refuses a stale If-Match (412 precondition_failed), changing nothing',
      given: async (c) => {
        const f = await firstFinding(c);
        await expectOk(c, putAnalysis(c.org, f.id, f.etag, { state: 'exploitable' }), 200);
        return f;
      },
      when: (c, f) => putAnalysis(c.org, f.id, f.etag, { state: 'false_positive' }),
      then: { status: 412, code: 'precondition_failed' },
      and: async (_res, c, f) => {
        const now = await expectOk(c, get(`/v1/orgs/${c.org}/findings/${f.id}`), 200);
        assert.equal(now.json.analysis.state, 'exploitable');
      },
    },
    {
      it: 'refuses risk_accepted without expiresAt (400 validation_failed)',
      given: (c) => firstFinding(c),
      when: (c, f) => putAnalysis(c.org, f.id, f.etag, { state: 'risk_accepted' }),
      then: { status: 400, code: 'validation_failed', message: /expiresAt/ },
    },
    {
      it: 'answers 404 not_found for an id the org does not have',
      when: (c) => putAnalysis(c.org, '0123456789abcdef', '"1"', { state: 'in_triage' }),
      then: { status: 404, code: 'not_found' },
    },
    {
      it: 'refuses a reader without findings:triage (403 forbidden), changing nothing',
      given: async (c) => {
        await seedScan(c, c.org2, twoFindings, 'application/json');
        return (await listFindings(c, c.org2))[0];
      },
      when: (c, f) => putAnalysis(c.org2, f.id, f.etag, { state: 'false_positive' }),
      then: { status: 403, code: 'forbidden' },
      and: async (_res, c, f) => {
        const now = await expectOk(c, get(`/v1/orgs/${c.org2}/findings/${f.id}`), 200);
        assert.equal(now.json.analysis, null);
      },
    },
  ],

  'POST /v1/orgs/{org}/findings/analysis (postFindingsAnalysis)': [
    {
      it: 'sets the analysis of findings given by ids (200, changed: 2)',
      given: async (c) => {
        await seedScan(c, c.org, twoFindings, 'application/json');
        return listFindings(c, c.org);
      },
      when: (c, items) =>
        bulkAnalysis(c.org, { ids: items.map((f: any) => f.id), analysis: { state: 'in_triage' } }),
      then: { status: 200 },
      and: async (res, c) => {
        assert.deepEqual(res.json, { org: c.org, changed: 2 });
        const items = await listFindings(c, c.org, 'analysis=in_triage');
        assert.equal(items.length, 2);
      },
    },
    {
      it: 'sets the analysis of the findings a filter matches (severity=high: changed 1)',
      given: (c) => seedScan(c, c.org, twoFindings, 'application/json'),
      when: (c) =>
        bulkAnalysis(c.org, {
          filter: { severity: ['high'] },
          analysis: { state: 'risk_accepted', expiresAt: inDays(30) },
        }),
      then: { status: 200 },
      and: async (res, c) => {
        assert.equal(res.json.changed, 1);
        const active = await listFindings(c, c.org, 'active=true');
        assert.deepEqual(
          active.map((f: any) => f.severity),
          ['medium'],
        );
      },
    },
    {
      it: 'changes none when one id is unknown (404 not_found naming it)',
      given: async (c) => {
        await seedScan(c, c.org, twoFindings, 'application/json');
        return listFindings(c, c.org);
      },
      when: (c, items) =>
        bulkAnalysis(c.org, {
          ids: [items[0].id, '0123456789abcdef'],
          analysis: { state: 'false_positive' },
        }),
      then: { status: 404, code: 'not_found', message: /ids\[1\]/ },
      and: async (_res, c) => {
        const items = await listFindings(c, c.org, 'analysis=none');
        assert.equal(items.length, 2);
      },
    },
    {
      it: 'refuses ids and filter together (400 validation_failed)',
      when: (c) =>
        bulkAnalysis(c.org, { ids: ['a1'], filter: {}, analysis: { state: 'in_triage' } }),
      then: { status: 400, code: 'validation_failed', message: /exactly one/ },
    },
    {
      it: 'refuses a scanner, which has no findings:triage (403 forbidden)',
      when: (c) => bulkAnalysis(c.org, { filter: {}, analysis: { state: 'in_triage' } }, 'scanner'),
      then: { status: 403, code: 'forbidden' },
    },
  ],

  'GET /v1/orgs/{org}/findings/{id}/history (getFindingHistory)': [
    {
      it: 'starts with the scan that first reported the finding',
      given: async (c) => {
        const scan = await seedScan(c, c.org, twoFindings, 'application/json');
        return { scan, f: (await listFindings(c, c.org))[0] };
      },
      when: (c, g) => get(`/v1/orgs/${c.org}/findings/${g.f.id}/history`),
      then: { status: 200 },
      and: (res, c, g) => {
        assert.equal(res.json.id, g.f.id);
        assert.deepEqual(res.json.items, [
          {
            at: g.f.firstSeen,
            kind: 'opened',
            from: null,
            to: 'open',
            by: null,
            scanId: g.scan.scanId,
            analysis: null,
          },
        ]);
        assert.equal(res.json.next, null);
      },
    },
    {
      it: 'answers 404 not_found for an id the org does not have',
      when: (c) => get(`/v1/orgs/${c.org}/findings/0123456789abcdef/history`),
      then: { status: 404, code: 'not_found' },
    },
  ],

  'GET /v1/orgs/{org}/vex (getVex)': [
    {
      it: 'exports an analysed package finding as OpenVEX',
      given: async (c) => {
        await seedScan(c, c.org, log4jFinding, 'application/json');
        const f = (await listFindings(c, c.org))[0];
        await expectOk(
          c,
          putAnalysis(c.org, f.id, f.etag, {
            state: 'not_affected',
            justification: 'code_not_reachable',
          }),
          200,
        );
      },
      when: (c) => get(`/v1/orgs/${c.org}/vex?format=openvex`),
      then: { status: 200 },
      and: (res) => {
        assert.equal(res.json['@context'], 'https://openvex.dev/ns/v0.2.0');
        assert.equal(res.json.statements.length, 1);
        assert.equal(res.json.statements[0].vulnerability.name, 'CVE-2021-44228');
        assert.equal(res.json.statements[0].status, 'not_affected');
        assert.equal(res.json.statements[0].justification, 'vulnerable_code_not_in_execute_path');
      },
    },
    {
      it: 'answers 404 not_found for OpenVEX when nothing is analysed',
      when: (c) => get(`/v1/orgs/${c.org}/vex?format=openvex`),
      then: { status: 404, code: 'not_found', message: /at least one statement/ },
    },
    {
      it: 'refuses an unknown format (400 validation_failed)',
      when: (c) => get(`/v1/orgs/${c.org}/vex?format=spdx`),
      then: { status: 400, code: 'validation_failed' },
    },
  ],

  'outside the contract': [
    {
      it: 'answers 404 not_found for a path the contract does not have',
      when: () => get('/v2/vulnerabilities'),
      then: { status: 404, code: 'not_found' },
    },
    {
      it: 'answers 405 method_not_allowed for DELETE /vuln',
      when: (c) => ({ method: 'DELETE', path: `/vuln?org=${c.org}`, as: 'scanner' }),
      then: { status: 405, code: 'method_not_allowed' },
    },
    {
      it: 'answers 405 method_not_allowed for GET on the scans route',
      when: (c) => get(`/v1/orgs/${c.org}/scans`, 'scanner'),
      then: { status: 405, code: 'method_not_allowed' },
    },
  ],
};

// ---- the runner ----------------------------------------------------------------

async function runCase(api: CheckedApi, k: Case, org: string): Promise<void> {
  const c: Ctx = { api, org, org2: `${org}-b`, other: `${org}-other`, closed: `${org}-closed` };
  const rt = api.runtime;
  for (const o of [c.org, c.org2, c.other]) await rt.grant('scanner', 'findings:write', o);
  for (const o of [c.org, c.org2]) await rt.grant('customer', 'findings:read', o);
  // The customer triages its first org only (c.org2: read, no triage).
  await rt.grant('customer', 'findings:triage', c.org);
  const given = k.given ? await k.given(c) : undefined;
  const req = k.when(c, given);
  const res = await api.send(req);
  const where = `${rt.name}: ${req.method} ${req.path} → ${res.status} ${res.text}`;
  assert.equal(res.status, k.then.status, where);
  if (k.then.code !== undefined) assert.equal(res.json.code, k.then.code, where);
  if (k.then.message !== undefined) {
    assert.match(
      res.json.message,
      k.then.message,
      `${where}\nmessage must match ${k.then.message}`,
    );
  }
  if (k.then.replayed) assert.equal(res.headers['idempotent-replayed'], 'true', where);
  await k.and?.(res, c, given);
}

// Every runtime starts at once (DynamoDB Local takes seconds to boot) and is
// awaited by its own suite; a start that fails fails that suite only.
const starting = RUNTIMES.map(([name, start]) => {
  const runtime = start();
  runtime.catch(() => undefined);
  return [name, runtime] as const;
});

for (const [name, runtime] of starting) {
  describe(`the contract, on the ${name} runtime`, () => {
    let api: CheckedApi | undefined;
    before(async () => {
      api = checked(await runtime);
    });
    after(async () => {
      await api?.runtime.close();
    });

    let n = 0;
    for (const [route, cases] of Object.entries(CASES)) {
      describe(route, () => {
        for (const k of cases) {
          const org = `cf-${String(++n).padStart(2, '0')}`;
          it(k.it, async () => {
            assert.ok(api, 'the runtime did not start');
            await runCase(api, k, org);
          });
        }
      });
    }

    it('has exercised every operation of the contract with a 2xx and a 4xx answer', () => {
      assert.ok(api, 'the runtime did not start');
      const missing: string[] = [];
      for (const op of OPERATIONS) {
        const statuses = [...(api.exercised.get(op.operationId) ?? [])];
        if (!statuses.some((s) => s >= 200 && s < 300)) missing.push(`${op.operationId}: no 2xx`);
        if (!statuses.some((s) => s >= 400 && s < 500)) missing.push(`${op.operationId}: no 4xx`);
      }
      assert.deepEqual(missing, [], 'operations without a conforming 2xx or 4xx case');
    });
  });
}
