// Issue 16 end to end on the embedded default: a real server (mTLS, SQLite),
// the demo policy of `init` (the customer OU reads and triages org1, the
// scanner OU only writes), a real CycloneDX BOM from DefectDojo's test scans
// (test/fixtures/cyclonedx/log4j.json: log4j-core 2.13.2, 8 vulnerabilities),
// the real KEV fixture imported with the CLI while the server runs, and the
// VEX documents validated against the vendored CycloneDX 1.6 and OpenVEX
// 0.2.0 schemas. Authorization and data-access records are read back from
// the server's logs.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCliAsync } from '../helpers/cli.js';
import {
  call,
  makeTestDir,
  readAuthzLog,
  readLog,
  startVault,
  waitFor,
  type RunningVault,
  type TestDir,
} from '../helpers/vault.js';
import { cycloneDx16Validator, openVex020Validator } from '../helpers/vex-schemas.js';

const fixture = (p: string) => fileURLToPath(new URL(`../fixtures/${p}`, import.meta.url));
const BOM = readFileSync(fixture('cyclonedx/log4j.json'));
const CLEAN_BOM = readFileSync(fixture('cyclonedx/log4j-2.17.1.json'));
const KEV = fixture('feeds/known_exploited_vulnerabilities.json');
const CDX = 'application/vnd.cyclonedx+json';

describe('working the findings over the API (issue 16)', () => {
  let t: TestDir;
  let srv: RunningVault;

  const req = (
    path: string,
    o: {
      method?: string;
      body?: unknown;
      headers?: Record<string, string>;
      as?: 'customer' | 'scanner';
    } = {},
  ) =>
    call(srv.port, {
      method: o.method ?? 'GET',
      path,
      ca: t.ca.certPem,
      cert: o.as === 'scanner' ? t.scanner : t.customer,
      headers: {
        ...(o.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(o.headers ?? {}),
      },
      ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
    });
  const upload = (body: Buffer) =>
    call(srv.port, {
      method: 'POST',
      path: '/v1/orgs/org1/scans',
      ca: t.ca.certPem,
      cert: t.scanner,
      headers: { 'content-type': CDX },
      body,
    });
  const list = async (query: string) => {
    const r = await req(`/v1/orgs/org1/findings?${query}`);
    assert.equal(r.status, 200, r.text);
    return r.json as { items: any[]; next: string | null };
  };

  let scanId: string;
  before(async () => {
    t = await makeTestDir();
    srv = await startVault(t.config);
    const r = await upload(BOM);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.new, 8);
    scanId = r.json.scanId;
  });
  after(async () => {
    await srv?.close();
    t?.cleanup();
  });

  it('ranks the KEV-listed CVE first once the catalog is imported, with cursors over the order', async () => {
    const before = await list('sort=priority&limit=100');
    assert.equal(before.items[0].kev, null);
    const imported = await runCliAsync(['feeds', 'import', '--kev', KEV, '--dir', t.dir]);
    assert.equal(imported.status, 0, imported.stderr);
    const p1 = await list('sort=priority&limit=3');
    assert.deepEqual(p1.items[0].cves, ['CVE-2021-44228']);
    assert.deepEqual(p1.items[0].kev, {
      dateAdded: '2021-12-10',
      dueDate: '2021-12-24',
      ransomware: true,
    });
    const seen = [...p1.items];
    let next = p1.next;
    while (next !== null) {
      const p = await list(`sort=priority&limit=3&cursor=${next}`);
      seen.push(...p.items);
      next = p.next;
    }
    assert.equal(new Set(seen.map((f) => f.id)).size, 8, 'every finding once');
    assert.deepEqual(
      (await list('kev=true')).items.map((f) => f.cves),
      [['CVE-2021-44228']],
    );
    const cursor = p1.next as string;
    const wrongOrder = await req(`/v1/orgs/org1/findings?limit=3&cursor=${cursor}`);
    assert.equal(wrongOrder.status, 400, 'a priority cursor is refused for another order');
    assert.equal(wrongOrder.json.code, 'invalid_cursor');
  });

  it("records a person's analysis in the authorization and data-access logs, never its comment", async () => {
    const f = (await list('cve=CVE-2021-45105')).items[0];
    const put = await req(`/v1/orgs/org1/findings/${f.id}/analysis`, {
      method: 'PUT',
      headers: { 'if-match': f.etag },
      body: {
        state: 'not_affected',
        justification: 'code_not_reachable',
        comment: 'lookups disabled: log4j2.formatMsgNoLookups',
      },
    });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.headers.etag, put.json.etag);
    assert.equal(put.json.analysis.source, 'user');
    assert.equal(put.json.active, false);
    await waitFor(() =>
      readLog(t.dir, 'data-access.log').some((e) => e.action === 'findings:triage'),
    );
    const access = readLog(t.dir, 'data-access.log').filter((e) => e.action === 'findings:triage');
    assert.equal(access.length, 1);
    // The BOM's own analysis said in_triage: the person's analysis replaces it.
    assert.equal(f.analysis.source, 'scanner');
    assert.deepEqual(access[0]?.finding, { id: f.id, from: 'in_triage', to: 'not_affected' });
    assert.equal(access[0]?.principal.name, 'customer');
    const authz = readAuthzLog(t.dir).filter((e) => e.action === 'findings:triage');
    assert.deepEqual(
      authz.map((e) => [e.decision, e.org]),
      [['allow', 'org1']],
    );
    for (const log of ['data-access.log', 'authz.log', 'access.log']) {
      const text = readFileSync(join(t.dir, 'logs', log), 'utf8');
      assert.ok(!text.includes('formatMsgNoLookups'), `${log} carries no comment`);
    }
  });

  it('refuses the scanner, which may write but not triage (403, logged, nothing changed)', async () => {
    const f = (await list('cve=CVE-2021-44832')).items[0];
    const put = await req(`/v1/orgs/org1/findings/${f.id}/analysis`, {
      as: 'scanner',
      method: 'PUT',
      headers: { 'if-match': f.etag },
      body: { state: 'false_positive' },
    });
    assert.equal(put.status, 403);
    assert.equal(put.json.code, 'forbidden');
    assert.ok(
      readAuthzLog(t.dir).some(
        (e) =>
          e.action === 'findings:triage' && e.decision === 'deny' && e.principal.name === 'scanner',
      ),
    );
    const now = await req(`/v1/orgs/org1/findings/${f.id}`);
    assert.equal(now.json.analysis.source, 'scanner');
    assert.equal(now.json.etag, f.etag);
  });

  it('exports the analysis as CycloneDX 1.6 and OpenVEX 0.2.0 documents that validate', async () => {
    const cdx = await req('/v1/orgs/org1/vex?format=cyclonedx');
    assert.equal(cdx.status, 200, cdx.text);
    const validCdx = cycloneDx16Validator();
    assert.ok(validCdx(cdx.json), JSON.stringify(validCdx.errors));
    const doc = cdx.json as { vulnerabilities: any[] };
    // The BOM's own in_triage verdicts, and the person's not_affected.
    assert.deepEqual(
      doc.vulnerabilities
        .map((v: any) => [v.id, v.analysis.state, v.analysis.justification ?? null])
        .sort(),
      [
        ['CVE-2021-44228', 'in_triage', null],
        ['CVE-2021-44832', 'in_triage', null],
        ['CVE-2021-45046', 'in_triage', null],
        ['CVE-2021-45105', 'not_affected', 'code_not_reachable'],
      ],
    );
    assert.ok(!cdx.text.includes('formatMsgNoLookups'), 'comments are not exported');
    const ovx = await req('/v1/orgs/org1/vex?format=openvex');
    assert.equal(ovx.status, 200, ovx.text);
    const validOvx = openVex020Validator();
    assert.ok(validOvx(ovx.json), JSON.stringify(validOvx.errors));
    const statements = (ovx.json as { statements: any[] }).statements;
    assert.deepEqual(
      statements.map((x: any) => [x.vulnerability.name, x.status, x.justification ?? null]),
      [
        ['CVE-2021-44228', 'under_investigation', null],
        ['CVE-2021-44832', 'under_investigation', null],
        ['CVE-2021-45046', 'under_investigation', null],
        ['CVE-2021-45105', 'not_affected', 'vulnerable_code_not_in_execute_path'],
      ],
    );
    assert.equal(
      statements[3].products[0]['@id'],
      'pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2',
    );
  });

  it('sets SLA days with the CLI and serves the recomputed due times and counts', async () => {
    const set = await runCliAsync([
      'sla',
      'set',
      '--org',
      'org1',
      '--critical',
      '2',
      '--dir',
      t.dir,
    ]);
    assert.equal(set.status, 0, set.stderr);
    assert.match(set.stdout, /^critical 2 days$/m);
    assert.match(set.stdout, /due times recomputed for 8 findings of org1/);
    const shown = await runCliAsync(['sla', 'show', '--org', 'org1', '--json', '--dir', t.dir]);
    assert.deepEqual(JSON.parse(shown.stdout), {
      org: 'org1',
      policy: { critical: 2, high: 30, medium: 90, low: 180, info: null },
      own: true,
    });
    const bad = await runCliAsync(['sla', 'set', '--org', 'org1', '--high', '0', '--dir', t.dir]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--high must be a number of days from 1 to 3650, or none/);
    for (const f of (await list('severity=critical')).items) {
      assert.equal(f.dueAt, new Date(Date.parse(f.firstSeen) + 2 * 86_400_000).toISOString());
    }
    const sum = await req('/v1/orgs/org1/summary');
    assert.equal(sum.status, 200, sum.text);
    const active = Object.fromEntries(sum.json.active.map((r: any) => [r.severity, r.count]));
    const all = (await list('limit=100')).items;
    const expected: Record<string, number> = {};
    for (const f of all.filter((x) => x.active))
      expected[f.severity] = (expected[f.severity] ?? 0) + 1;
    assert.deepEqual(active, expected);
    assert.equal(
      Object.values(expected).reduce((a, b) => a + b, 0),
      7,
      'one is not_affected',
    );
    assert.equal(sum.json.kev, 1);
    assert.deepEqual(sum.json.overdue, []);
    assert.ok(sum.json.dueSoon >= 4, 'the critical ones are due within two days');
  });

  it('closes everything on a clean BOM and keeps the whole story in the history', async () => {
    const r = await upload(CLEAN_BOM);
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.fixed, 8);
    const f = (await list('cve=CVE-2021-45105')).items[0];
    assert.equal(f.status, 'fixed');
    const h = await req(`/v1/orgs/org1/findings/${f.id}/history?limit=2`);
    assert.equal(h.status, 200, h.text);
    assert.equal(h.json.items.length, 2);
    const h2 = await req(`/v1/orgs/org1/findings/${f.id}/history?limit=2&cursor=${h.json.next}`);
    assert.equal(h2.status, 200, h2.text);
    assert.equal(h2.json.next, null);
    assert.deepEqual(
      [...h.json.items, ...h2.json.items].map((e: any) => [e.kind, e.to, e.scanId]),
      [
        ['opened', 'open', scanId],
        ['analysis', 'not_affected', null],
        ['status', 'fixed', r.json.scanId],
      ],
    );
    const sum = await req('/v1/orgs/org1/summary');
    const fixed = sum.json.meanTimeToFix.reduce((n: number, x: any) => n + x.fixed, 0);
    assert.equal(fixed, 8);
  });
});
