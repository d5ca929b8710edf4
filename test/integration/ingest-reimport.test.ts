// Issue 3: re-import semantics (fixed / reopened / updated / unchanged), the
// JSON formats (native batch, SARIF, CycloneDX), the finding queries, and the
// seed routes reading and writing the same findings.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

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
    grantRead(t.dir, 'customer', 'org3');
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

  it('re-imports a real CodeQL SARIF: a removed result is fixed, shifted lines change no identity, a clean log closes the rest', async () => {
    const doc = JSON.parse(
      readFileSync(join(FIXTURES, 'sarif', 'codeQL-output.sarif'), 'utf8'),
    ) as { runs: { results: unknown[] }[] };
    const send = (d: unknown) =>
      uploadScan(
        scanner,
        'org2',
        JSON.stringify(d),
        'application/sarif+json',
        {},
        {
          target: 'github.com/acme/app',
        },
      );
    const first = await send(doc);
    assert.equal(first.status, 201, first.text);
    assert.deepEqual([first.json.received, first.json.new], [72, 72]);
    const items = (await get(customer, '/v1/orgs/org2/findings?limit=1000')).json.items as {
      pluginId: string;
      severity: string;
      title: string;
      location: string;
      asset: string;
    }[];
    const sevOf = (rule: string) =>
      new Set(items.filter((i) => i.pluginId === rule).map((i) => i.severity));
    assert.deepEqual(sevOf('py/sql-injection'), new Set(['high']));
    assert.deepEqual(sevOf('py/unused-import'), new Set(['low']));
    const sql = items.find((i) => i.pluginId === 'py/sql-injection');
    assert.equal(sql?.asset, 'github.com/acme/app');
    assert.match(sql?.location ?? '', /\.py:\d+$/);
    assert.doesNotMatch(
      sql?.title ?? '',
      /user-provided value/,
      'the title is the rule, not the message',
    );

    // Every line one down (code inserted at the top of each file): same identities.
    const shift = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(shift)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v).map(([k, x]) => [
                k,
                (k === 'startLine' || k === 'endLine') && typeof x === 'number' ? x + 1 : shift(x),
              ]),
            )
          : v;
    const shifted = await send(shift(doc));
    assert.equal(shifted.status, 201, shifted.text);
    assert.deepEqual([shifted.json.new, shifted.json.fixed, shifted.json.reopened], [0, 0, 0]);
    assert.equal(shifted.json.updated + shifted.json.unchanged, 72);

    // One result fewer: that one is fixed, nothing is new.
    const fewer = structuredClone(doc);
    fewer.runs[0]?.results.splice(5, 1);
    const removed = await send(fewer);
    assert.deepEqual([removed.json.new, removed.json.fixed], [0, 1]);

    // A clean log of the same tool and target closes every open finding.
    const clean = structuredClone(doc);
    (clean.runs[0] as { results: unknown[] }).results = [];
    const closed = await send(clean);
    assert.equal(closed.status, 201, closed.text);
    assert.deepEqual([closed.json.received, closed.json.new, closed.json.fixed], [0, 0, 71]);
    assert.deepEqual(closed.json.targets, ['github.com/acme/app']);
  });

  it('closes a target with a clean Trivy report, and fixes log4j 2.13.2 findings when the BOM moves to 2.17.1', async () => {
    const trivy = readFileSync(join(FIXTURES, 'trivy', 'scheme_2_many_vulns.json'));
    const first = await uploadScan(scanner, 'org3', trivy, 'application/json');
    assert.equal(first.status, 201, first.text);
    assert.equal(first.json.format, 'trivy');
    assert.ok(first.json.new > 0);
    const artifact = (JSON.parse(trivy.toString()) as { ArtifactName: string }).ArtifactName;
    const clean = await uploadScan(
      scanner,
      'org3',
      JSON.stringify({
        SchemaVersion: 2,
        ArtifactName: artifact,
        ArtifactType: 'container_image',
        Results: [],
      }),
      'application/json',
    );
    assert.equal(clean.status, 201, clean.text);
    assert.deepEqual([clean.json.received, clean.json.fixed], [0, first.json.new]);

    const bom = (name: string) => readFileSync(join(FIXTURES, 'cyclonedx', name));
    const old = await uploadScan(scanner, 'org3', bom('log4j.json'), 'application/json');
    assert.equal(old.status, 201, old.text);
    assert.equal(old.json.new, 8);
    const crit = (await get(customer, '/v1/orgs/org3/findings?cve=CVE-2021-44228')).json.items;
    assert.equal(crit.length, 1);
    assert.equal(crit[0].severity, 'critical');
    assert.match(crit[0].location, /log4j-core@2\.13\.2$/);
    const bumped = await uploadScan(scanner, 'org3', bom('log4j-2.17.1.json'), 'application/json');
    assert.equal(bumped.status, 201, bumped.text);
    assert.deepEqual([bumped.json.new, bumped.json.fixed], [0, 8]);
    const after = (await get(customer, '/v1/orgs/org3/findings?cve=CVE-2021-44228')).json.items;
    assert.equal(after[0].status, 'fixed');
  });

  it('ingests CycloneDX vulnerabilities, one finding per affected component of the BOM subject', async () => {
    const bom = {
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      metadata: { component: { name: 'shop', purl: 'pkg:npm/shop@2.0.0' } },
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
      assert.equal(f.asset, 'pkg:npm/shop');
      assert.match(f.title, /^CVE-2021-23337 in lodash(-es)?$/);
    }
    assert.deepEqual(page.json.items.map((f: { location: string }) => f.location).sort(), [
      'pkg:npm/lodash-es@4.17.20',
      'pkg:npm/lodash@4.17.20',
    ]);
    // The subject's next release: lodash upgraded, no vulnerabilities left.
    const next = {
      ...bom,
      metadata: { component: { name: 'shop', purl: 'pkg:npm/shop@2.1.0' } },
      components: [{ 'bom-ref': 'pkg:npm/lodash@4.17.21', name: 'lodash' }],
      vulnerabilities: [],
    };
    const clean = await uploadScan(
      scanner,
      'org2',
      JSON.stringify(next),
      'application/vnd.cyclonedx+json',
    );
    assert.equal(clean.status, 201, clean.text);
    assert.deepEqual(
      [clean.json.received, clean.json.new, clean.json.fixed, clean.json.targets],
      [0, 0, 2, ['pkg:npm/shop']],
    );
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
