// Issue 3: every real Nessus export in test/fixtures/nessus ingests with the
// counts listed in its SOURCES.txt, over real mTLS into a real SQLite file;
// re-imports keep one finding per identity and only move lastSeen.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { get, grantRead, sample, uploadScan, type Client } from '../helpers/scans.js';
import {
  countFindings,
  makeTestDir,
  startVault,
  type RunningVault,
  type TestDir,
} from '../helpers/vault.js';

const XML = 'application/vnd.tenable.nessus+xml';

describe('ingesting the real Nessus samples', () => {
  let t: TestDir;
  let srv: RunningVault;
  let scanner: Client;
  let customer: Client;

  before(async () => {
    t = await makeTestDir();
    srv = await startVault(t.config);
    scanner = { port: srv.port, ca: t.ca.certPem, cert: t.scanner };
    customer = { port: srv.port, ca: t.ca.certPem, cert: t.customer };
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });

  // One org per file so the counts of one never depend on another.
  const cases = [
    { file: 'nessus_with_cvssv3.nessus', type: XML, org: 'org1', received: 49, distinct: 48 },
    { file: 'issue_6992.nessus', type: XML, org: 'org2', received: 1, distinct: 1 },
    {
      file: 'nessus_many_vuln.xml',
      type: 'application/xml',
      org: 'org3',
      received: 7,
      distinct: 7,
    },
    { file: 'nessus_many_vuln.csv', type: 'text/csv', org: 'org4', received: 4, distinct: 4 },
    {
      file: 'nessus_many_vuln2-default.csv',
      type: 'text/csv',
      org: 'org5',
      received: 30,
      distinct: 29,
    },
    { file: 'nessus-template.csv', type: 'text/csv', org: 'org6', received: 5, distinct: 5 },
  ];

  for (const c of cases) {
    it(`ingests ${c.file}: ${c.received} received, ${c.distinct} distinct findings`, async () => {
      const res = await uploadScan(scanner, c.org, sample(c.file), c.type);
      assert.equal(res.status, 201, res.text);
      assert.deepEqual(Object.keys(res.json).sort(), [
        'durationMs',
        'fixed',
        'format',
        'new',
        'received',
        'reopened',
        'scanId',
        'targetCount',
        'targets',
        'unchanged',
        'updated',
      ]);
      assert.equal(res.json.format, c.file.endsWith('.csv') ? 'nessus-csv' : 'nessus-xml');
      assert.equal(res.json.targetCount, res.json.targets.length);
      assert.equal(res.json.received, c.received);
      assert.equal(res.json.new, c.distinct);
      assert.equal(res.json.updated + res.json.unchanged + res.json.fixed + res.json.reopened, 0);
      assert.equal(countFindings(t.dir, c.org), c.distinct);
    });
  }

  it('changes nothing but lastSeen when the same file is uploaded again', async () => {
    const before = await get(customer, '/v1/orgs/org1/findings?limit=1000');
    const res = await uploadScan(scanner, 'org1', sample('nessus_with_cvssv3.nessus'), XML);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.json.received, 49);
    assert.equal(res.json.new, 0);
    assert.equal(res.json.updated, 0);
    assert.equal(res.json.fixed, 0);
    assert.equal(res.json.reopened, 0);
    assert.equal(res.json.unchanged, 48);
    assert.equal(countFindings(t.dir, 'org1'), 48);
    const again = await get(customer, '/v1/orgs/org1/findings?limit=1000');
    const strip = (items: any[]) => items.map(({ lastSeen: _l, ...rest }) => rest);
    assert.deepEqual(strip(again.json.items), strip(before.json.items));
    assert.ok(again.json.items[0].lastSeen > before.json.items[0].lastSeen);
  });

  it('keeps CVSS v3 with its vector, every CVE, and decodes XML entities', async () => {
    const page = await get(customer, '/v1/orgs/org1/findings?limit=1000');
    const items: any[] = page.json.items;
    const cves = new Set(items.flatMap((f) => f.cves));
    assert.equal(cves.size, 136);
    const v3 = items.filter((f) => f.cvss3Score !== null);
    assert.ok(v3.length > 0);
    for (const f of v3) assert.match(f.cvss3Vector, /^CVSS:3\.[01]\//);
    const sev = (s: string) => items.filter((f) => f.severity === s).length;
    // 23 sev0 + 1 sev1 + 13 sev2 + 10 sev3 + 2 sev4; the repeated pair is a sev4 one.
    assert.deepEqual(
      [sev('info'), sev('low'), sev('medium'), sev('high'), sev('critical')],
      [23, 1, 13, 10, 1],
    );
    const all = await Promise.all(
      items.map((f) => get(customer, `/v1/orgs/org1/findings/${f.id}`)),
    );
    const text = all.map((r) => r.json.description + r.json.evidence + r.json.title).join('\n');
    assert.ok(text.includes('"'), 'a decoded &quot; appears as a double quote');
    assert.ok(!/&(quot|amp|lt|gt|apos);/.test(text), 'no entity reference is left encoded');
  });

  it('reads the CSV columns: host, port, protocol, severity, CVSS and CVEs', async () => {
    assert.equal((await get(customer, '/v1/orgs/org6/findings')).status, 403);
    grantRead(t.dir, 'customer', 'org6');
    const page = await get(customer, '/v1/orgs/org6/findings');
    assert.equal(page.status, 200, page.text);
    const rows = page.json.items
      .map((f: any) => [f.asset, f.pluginId, f.port, f.protocol, f.severity, f.cvss3Score, f.cves])
      .sort((a: any[], b: any[]) => Number(a[1]) - Number(b[1]));
    assert.deepEqual(rows, [
      ['192.168.0.100', '11213', 443, 'tcp', 'medium', 5.3, ['CVE-2003-1567']],
      ['192.168.0.100', '42873', 3389, 'tcp', 'high', 7.5, ['CVE-2016-2183']],
      ['192.168.0.100', '187315', 22, 'tcp', 'medium', 5.9, ['CVE-2023-48795']],
      ['192.168.0.101', '200162', 8080, 'tcp', 'critical', 9.8, ['CVE-2024-4577']],
      ['192.168.0.101', '200798', 5601, 'tcp', 'medium', 4.9, ['CVE-2024-23443']],
    ]);
  });

  it('skips the empty rows of a Tenable.sc export and maps its Severity column', async () => {
    grantRead(t.dir, 'customer', 'org4');
    const page = await get(customer, '/v1/orgs/org4/findings');
    assert.equal(page.json.items.length, 4);
    for (const f of page.json.items) assert.equal(f.severity, 'medium');
  });
});
