// Issue 3: re-import semantics (fixed / reopened / updated / unchanged), the
// JSON formats (native batch, SARIF, CycloneDX), the finding queries, and the
// seed routes reading and writing the same findings.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get, grantRead, nativeBatch, uploadScan, type Client } from '../helpers/scans.js';
import {
  demoRecord,
  makeTestDir,
  postJson,
  startVault,
  type RunningVault,
  type TestDir,
} from '../helpers/vault.js';

const JSON_TYPE = 'application/json';

describe('re-importing scans and querying findings', () => {
  let t: TestDir;
  let srv: RunningVault;
  let scanner: Client;
  let customer: Client;

  before(async () => {
    t = await makeTestDir();
    srv = await startVault(t.config);
    scanner = { port: srv.port, ca: t.ca.certPem, cert: t.scanner };
    customer = { port: srv.port, ca: t.ca.certPem, cert: t.customer };
    grantRead(t.dir, 'customer', 'org2');
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });

  const byPlugin = async (org: string) => {
    const page = await get(customer, `/v1/orgs/${org}/findings?limit=1000`);
    assert.equal(page.status, 200, page.text);
    return new Map<string, any>(page.json.items.map((f: any) => [`${f.asset}/${f.pluginId}`, f]));
  };

  it('marks absent findings of covered assets fixed, and reopens them when seen again', async () => {
    const first = await uploadScan(
      scanner,
      'org1',
      nativeBatch([
        { asset: 'web-1', pluginId: 'a' },
        { asset: 'web-1', pluginId: 'b' },
        { asset: 'db-1', pluginId: 'c' },
      ]),
      JSON_TYPE,
    );
    assert.equal(first.json.new, 3, first.text);

    // web-1 no longer has b; db-1 is not in this scan, so c stays open.
    const second = await uploadScan(
      scanner,
      'org1',
      nativeBatch([{ asset: 'web-1', pluginId: 'a', title: 'check a, new wording' }]),
      JSON_TYPE,
    );
    assert.deepEqual(
      [second.json.received, second.json.new, second.json.updated, second.json.unchanged],
      [1, 0, 1, 0],
    );
    assert.equal(second.json.fixed, 1);
    let f = await byPlugin('org1');
    assert.equal(f.get('web-1/b').status, 'fixed');
    assert.ok(f.get('web-1/b').fixedAt);
    assert.equal(f.get('db-1/c').status, 'open');
    assert.equal(f.get('web-1/a').title, 'check a, new wording');

    const third = await uploadScan(
      scanner,
      'org1',
      nativeBatch([
        { asset: 'web-1', pluginId: 'a', title: 'check a, new wording' },
        { asset: 'web-1', pluginId: 'b' },
      ]),
      JSON_TYPE,
    );
    assert.deepEqual(
      [
        third.json.new,
        third.json.updated,
        third.json.unchanged,
        third.json.fixed,
        third.json.reopened,
      ],
      [0, 0, 1, 0, 1],
    );
    f = await byPlugin('org1');
    assert.equal(f.get('web-1/b').status, 'reopened');
    assert.equal(f.get('web-1/b').fixedAt, null);
    assert.equal(f.size, 3, 'one finding per identity, never a duplicate');
  });

  it('ingests SARIF results with rule, location and level', async () => {
    const sarif = {
      version: '2.1.0',
      runs: [
        {
          tool: { driver: { name: 'semgrep' } },
          results: [
            {
              ruleId: 'js/sql-injection',
              level: 'error',
              message: { text: 'SQL built from user input' },
              locations: [
                {
                  physicalLocation: {
                    artifactLocation: { uri: 'src/db.js' },
                    region: { startLine: 42 },
                  },
                },
              ],
            },
            {
              ruleId: 'js/weak-hash',
              level: 'note',
              properties: { 'security-severity': '9.1' },
              message: { text: 'MD5 used' },
              locations: [{ physicalLocation: { artifactLocation: { uri: 'src/h.js' } } }],
            },
          ],
        },
      ],
    };
    const res = await uploadScan(scanner, 'org2', JSON.stringify(sarif), 'application/sarif+json');
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.new, 2);
    const f = await byPlugin('org2');
    const sql = f.get('src/db.js/js/sql-injection');
    assert.deepEqual(
      [sql.scanner, sql.port, sql.severity, sql.severityRaw],
      ['semgrep', 42, 'high', 'error'],
    );
    assert.equal(f.get('src/h.js/js/weak-hash').severity, 'critical');
  });

  it('ingests CycloneDX vulnerabilities, one finding per affected component', async () => {
    const bom = {
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      components: [{ 'bom-ref': 'pkg:npm/lodash@4.17.20', name: 'lodash' }],
      vulnerabilities: [
        {
          id: 'CVE-2021-23337',
          ratings: [
            {
              method: 'CVSSv31',
              score: 7.2,
              severity: 'high',
              vector: 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H',
            },
          ],
          description: 'Command injection in template',
          recommendation: 'Upgrade to 4.17.21',
          affects: [{ ref: 'pkg:npm/lodash@4.17.20' }, { ref: 'pkg:npm/lodash-es@4.17.20' }],
        },
      ],
    };
    const res = await uploadScan(
      scanner,
      'org2',
      JSON.stringify(bom),
      'application/vnd.cyclonedx+json',
    );
    assert.equal(res.status, 201, res.text);
    assert.deepEqual([res.json.received, res.json.new], [2, 2]);
    const page = await get(customer, '/v1/orgs/org2/findings?cve=cve-2021-23337');
    assert.equal(page.json.items.length, 2);
    for (const f of page.json.items) {
      assert.equal(f.severity, 'high');
      assert.equal(f.cvss3Score, 7.2);
      assert.match(f.cvss3Vector, /^CVSS:3\.1\//);
    }
  });

  it('filters by severity (several), status, cve, asset, since and title text', async () => {
    await uploadScan(
      scanner,
      'org1',
      nativeBatch([
        { asset: 'web-1', pluginId: 'a', title: 'check a, new wording', severity: 'medium' },
        { asset: 'web-1', pluginId: 'b' },
        {
          asset: 'web-1',
          pluginId: 'd',
          title: 'OpenSSL heartbleed',
          severity: 'critical',
          cves: ['CVE-2014-0160'],
        },
        { asset: 'web-1', pluginId: 'e', title: 'Banner', severity: 'info' },
      ]),
      JSON_TYPE,
    );
    const ids = async (query: string) => {
      const r = await get(customer, `/v1/orgs/org1/findings?${query}`);
      assert.equal(r.status, 200, r.text);
      return r.json.items
        .map((f: any) => f.pluginId)
        .sort()
        .join(',');
    };
    assert.equal(await ids('severity=critical,info'), 'd,e');
    assert.equal(await ids('severity=critical&asset=web-1'), 'd');
    assert.equal(await ids('asset=db-1'), 'c');
    assert.equal(await ids('cve=CVE-2014-0160'), 'd');
    assert.equal(await ids('q=HEARTBLEED'), 'd');
    assert.equal(await ids('status=reopened'), 'b');
    assert.equal(await ids('since=2999-01-01'), '');
    assert.equal(await ids('since=2000-01-01&severity=info'), 'e');
    const bad = await get(customer, '/v1/orgs/org1/findings?severity=urgent');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'validation_failed');
  });

  it('pages in a stable order with no gap or duplicate, cursors bound to the filters', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await get(
        customer,
        `/v1/orgs/org1/findings?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      assert.equal(r.status, 200, r.text);
      seen.push(...r.json.items.map((f: any) => f.id));
      cursor = r.json.next;
      if (cursor) {
        const other = await get(
          customer,
          `/v1/orgs/org1/findings?limit=2&severity=info&cursor=${cursor}`,
        );
        assert.equal(other.json.code, 'invalid_cursor');
      }
    } while (cursor);
    const all = await get(customer, '/v1/orgs/org1/findings?limit=1000');
    assert.deepEqual(
      seen,
      all.json.items.map((f: any) => f.id),
    );
    assert.equal(new Set(seen).size, seen.length);
  });

  it('returns one finding with its text, and 404 for an id of another org', async () => {
    const f = (await byPlugin('org1')).get('web-1/d');
    const one = await get(customer, `/v1/orgs/org1/findings/${f.id}`);
    assert.equal(one.status, 200, one.text);
    assert.equal(one.json.title, 'OpenSSL heartbleed');
    assert.equal(typeof one.json.description, 'string');
    const other = (await byPlugin('org2')).values().next().value;
    const cross = await get(customer, `/v1/orgs/org1/findings/${other.id}`);
    assert.equal(cross.status, 404);
    assert.equal(cross.json.code, 'not_found');
    assert.equal((await get(customer, `/v1/orgs/org5/findings/${f.id}`)).status, 403);
  });

  it('summarises counts by severity × status, top assets and top CVEs', async () => {
    const s = await get(customer, '/v1/orgs/org1/summary?top=5');
    assert.equal(s.status, 200, s.text);
    const count = (sev: string, st: string) =>
      s.json.bySeverityStatus.find((r: any) => r.severity === sev && r.status === st)?.count ?? 0;
    assert.equal(count('critical', 'open'), 1);
    assert.equal(count('medium', 'reopened'), 1);
    assert.deepEqual(s.json.topAssets[0], { asset: 'web-1', open: 4 });
    assert.deepEqual(s.json.topCves, [{ cve: 'CVE-2014-0160', open: 1 }]);
    assert.equal((await get(customer, '/v1/orgs/org5/summary')).status, 403);
  });

  it('shares one findings table with the seed routes; GET /vuln lists only seed records', async () => {
    const post = await postJson(
      srv.port,
      t.ca.certPem,
      t.scanner,
      demoRecord({ VulnID: 'SEED-1' }),
    );
    assert.equal(post.status, 201, post.text);
    const v1 = await byPlugin('org1');
    assert.ok(v1.has('web-01/19506'), 'the seed record is a finding of org1');
    assert.ok(v1.size > 1, 'org1 also has scanned findings');
    const seed = await get(customer, '/vuln?org=org1&limit=1000');
    assert.equal(seed.status, 200);
    assert.deepEqual(
      seed.json.items.map((i: { VulnID: string }) => i.VulnID),
      ['SEED-1'],
      'scan findings do not fit the seed shape and are not listed',
    );
  });
});
