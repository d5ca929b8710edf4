// One specification every store adapter must meet (SQLite and DynamoDB). The
// adapters are exercised through the ports only; each test works in orgs of
// its own so the tests do not depend on one another.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { newFinding, type CoveredAsset, type ScannedFinding } from '../../src/core/finding.js';
import type {
  FindingsReader,
  FindingsWriter,
  Grant,
  IdempotencyStore,
  NewSeedFinding,
  PolicyReader,
  ScanCounts,
} from '../../src/core/ports.js';
import { VaultError } from '../../src/core/errors.js';
import { MERGE_SEPARATOR } from '../../src/functions/ingest/classify.js';

export interface ContractStore {
  reader: FindingsReader;
  writer: FindingsWriter;
  idempotency: IdempotencyStore;
  policies: PolicyReader;
  grant(g: Grant): Promise<void>;
  revoke(g: Grant): Promise<void>;
  close(): Promise<void>;
}

const newOrg = () => `org-${randomUUID().slice(0, 8)}`;

function seed(org: string, n: number, over: Partial<NewSeedFinding> = {}): NewSeedFinding {
  return {
    vulnId: `V-${n}`,
    org,
    asset: `host-${n}`,
    dueDate: '2026-12-31',
    pluginId: String(1000 + n),
    title: `Plugin ${n}`,
    priority: 'P1',
    ...over,
  };
}

function scanned(n: number, over: Partial<ScannedFinding> = {}): ScannedFinding {
  return newFinding({
    asset: 'h1',
    scanner: 'nessus',
    pluginId: String(n),
    port: 443,
    protocol: 'tcp',
    title: `Finding ${n}`,
    severity: 'medium',
    severityRaw: '2',
    cvss3Score: 5.3,
    cvss3Vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N',
    cvss2Score: null,
    cvss2Vector: null,
    cves: [],
    description: `description ${n}`,
    solution: `solution ${n}`,
    evidence: `evidence ${n}`,
    service: 'www',
    ...over,
  });
}

async function importScan(
  w: FindingsWriter,
  org: string,
  batches: ScannedFinding[][],
  assets: CoveredAsset[] = [{ scanner: 'nessus', asset: 'h1', category: '' }],
): Promise<ScanCounts> {
  const imp = await w.beginScanImport({
    scanId: randomUUID(),
    org,
    format: 'native',
    principal: 'contract-test',
    startedAt: new Date().toISOString(),
  });
  let received = 0;
  for (const [i, b] of batches.entries()) {
    received += b.length;
    await imp.stage(b, i === 0 ? assets : []);
  }
  return imp.commit(received);
}

async function all(r: FindingsReader, org: string) {
  return (await r.queryFindings(org, {}, 0, 1000)).items;
}

const isCode = (code: string, msg?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof VaultError, String(err));
  assert.equal(err.code, code);
  if (msg) assert.match(err.message, msg);
  return true;
};

export function storeContract(name: string, open: () => Promise<ContractStore>): void {
  describe(`store contract: ${name}`, () => {
    let s: ContractStore;
    before(async () => {
      s = await open();
    });
    after(async () => {
      await s.close();
    });

    describe('seed batches', () => {
      it('stores a batch across orgs and lists each org in insertion order', async () => {
        const [a, b] = [newOrg(), newOrg()];
        const r = await s.writer.insertSeedBatch([seed(a, 1), seed(b, 1), seed(a, 2)]);
        assert.deepEqual(r, { stored: 3 });
        const page = await s.reader.listSeedRecords(a, 0, 10);
        assert.deepEqual(
          page.items.map((i) => [
            i.vulnId,
            i.org,
            i.asset,
            i.dueDate,
            i.pluginId,
            i.title,
            i.priority,
          ]),
          [
            ['V-1', a, 'host-1', '2026-12-31', '1001', 'Plugin 1', 'P1'],
            ['V-2', a, 'host-2', '2026-12-31', '1002', 'Plugin 2', 'P1'],
          ],
        );
        assert.equal(page.lastSeq, undefined);
        assert.equal((await s.reader.listSeedRecords(b, 0, 10)).items.length, 1);
        const f = (await all(s.reader, a))[0];
        assert.ok(f);
        assert.equal(f.scanner, 'seed');
        assert.equal(f.status, 'open');
        assert.equal(f.severity, 'info');
        assert.deepEqual(f.cves, []);
      });

      it('lists only seed records as seed records, never the scan findings of the same org', async () => {
        const org = newOrg();
        await importScan(s.writer, org, [[scanned(1), scanned(2)]]);
        await s.writer.insertSeedBatch([seed(org, 1)]);
        await importScan(s.writer, org, [[scanned(1), scanned(2), scanned(3)]]);
        const page = await s.reader.listSeedRecords(org, 0, 2);
        assert.deepEqual(
          page.items.map((i) => i.vulnId),
          ['V-1'],
        );
        assert.equal(page.lastSeq, undefined);
        assert.equal((await all(s.reader, org)).length, 4);
      });

      it('refuses a batch naming a stored VulnID with vuln_exists and stores none of it', async () => {
        const org = newOrg();
        await s.writer.insertSeedBatch([seed(org, 1)]);
        await assert.rejects(
          s.writer.insertSeedBatch([seed(org, 2), seed(org, 1, { asset: 'other' })]),
          isCode('vuln_exists', /^record 1:/),
        );
        const page = await s.reader.listSeedRecords(org, 0, 10);
        assert.deepEqual(
          page.items.map((i) => i.vulnId),
          ['V-1'],
        );
        // The refused batch left nothing behind: V-2 can be stored now.
        assert.deepEqual(await s.writer.insertSeedBatch([seed(org, 2)]), { stored: 1 });
      });

      it('keeps a 300-record batch all-or-nothing (beyond one transaction)', async () => {
        const org = newOrg();
        await s.writer.insertSeedBatch([seed(org, 299)]);
        const big = Array.from({ length: 300 }, (_, i) => seed(org, i));
        await assert.rejects(s.writer.insertSeedBatch(big), isCode('vuln_exists', /^record 299:/));
        assert.equal((await s.reader.listSeedRecords(org, 0, 1000)).items.length, 1);
        const org2 = newOrg();
        const ok = Array.from({ length: 300 }, (_, i) => seed(org2, i));
        assert.deepEqual(await s.writer.insertSeedBatch(ok), { stored: 300 });
        const items = (await s.reader.listSeedRecords(org2, 0, 1000)).items;
        assert.deepEqual(
          items.map((i) => i.vulnId),
          ok.map((r) => r.vulnId),
        );
      });
    });

    describe('pages and cursors', () => {
      it('pages through an org in order with no duplicate or gap', async () => {
        const org = newOrg();
        await s.writer.insertSeedBatch(Array.from({ length: 7 }, (_, i) => seed(org, i)));
        const seen: string[] = [];
        let after = 0;
        let pages = 0;
        for (;;) {
          const p = await s.reader.listSeedRecords(org, after, 3);
          pages++;
          seen.push(...p.items.map((i) => i.vulnId));
          if (p.lastSeq === undefined) break;
          assert.equal(p.items.length, 3);
          assert.equal(p.lastSeq, p.items.at(-1)?.seq);
          after = p.lastSeq;
        }
        assert.equal(pages, 3);
        assert.deepEqual(seen, ['V-0', 'V-1', 'V-2', 'V-3', 'V-4', 'V-5', 'V-6']);
      });

      it('ends on a full last page without a cursor', async () => {
        const org = newOrg();
        await s.writer.insertSeedBatch(Array.from({ length: 4 }, (_, i) => seed(org, i)));
        const p1 = await s.reader.queryFindings(org, {}, 0, 2);
        assert.ok(p1.lastSeq !== undefined);
        const p2 = await s.reader.queryFindings(org, {}, p1.lastSeq, 2);
        assert.equal(p2.items.length, 2);
        assert.equal(p2.lastSeq, undefined);
      });

      it('pages a filtered query by the filtered items', async () => {
        const org = newOrg();
        await importScan(s.writer, org, [
          Array.from({ length: 9 }, (_, i) =>
            scanned(i, { severity: i % 3 === 0 ? 'high' : 'low' }),
          ),
        ]);
        const p1 = await s.reader.queryFindings(org, { severity: ['high'] }, 0, 2);
        assert.deepEqual(
          p1.items.map((f) => f.pluginId),
          ['0', '3'],
        );
        const p2 = await s.reader.queryFindings(org, { severity: ['high'] }, p1.lastSeq ?? -1, 2);
        assert.deepEqual(
          p2.items.map((f) => f.pluginId),
          ['6'],
        );
        assert.equal(p2.lastSeq, undefined);
      });
    });

    describe('filters', () => {
      let org: string;
      const ids = (fs: { pluginId: string }[]) => fs.map((f) => f.pluginId);
      before(async () => {
        org = newOrg();
        await importScan(
          s.writer,
          org,
          [
            [
              scanned(1, {
                severity: 'critical',
                cves: ['CVE-2024-0001'],
                title: 'OpenSSL heap overflow',
              }),
              scanned(2, { severity: 'high', cves: ['CVE-2024-0001', 'CVE-2024-0002'] }),
              scanned(3, { severity: 'low', asset: 'h2', title: 'TLS weak OPENSSL cipher' }),
              scanned(4, { severity: 'info', asset: 'h2', title: 'Ünïcode Title' }),
            ],
          ],
          [
            { scanner: 'nessus', asset: 'h1', category: '' },
            { scanner: 'nessus', asset: 'h2', category: '' },
          ],
        );
        // Second scan of h2 without 4: 4 becomes fixed.
        await importScan(
          s.writer,
          org,
          [[scanned(3, { severity: 'low', asset: 'h2', title: 'TLS weak OPENSSL cipher' })]],
          [{ scanner: 'nessus', asset: 'h2', category: '' }],
        );
      });

      it('filters by severity list', async () => {
        const r = await s.reader.queryFindings(org, { severity: ['high', 'critical'] }, 0, 100);
        assert.deepEqual(ids(r.items), ['1', '2']);
      });
      it('filters by status', async () => {
        assert.deepEqual(
          ids((await s.reader.queryFindings(org, { status: 'fixed' }, 0, 100)).items),
          ['4'],
        );
        assert.deepEqual(
          ids((await s.reader.queryFindings(org, { status: 'open' }, 0, 100)).items),
          ['1', '2', '3'],
        );
      });
      it('filters by CVE', async () => {
        assert.deepEqual(
          ids((await s.reader.queryFindings(org, { cve: 'CVE-2024-0001' }, 0, 100)).items),
          ['1', '2'],
        );
        assert.deepEqual(
          ids((await s.reader.queryFindings(org, { cve: 'CVE-2024-0002' }, 0, 100)).items),
          ['2'],
        );
      });
      it('filters by asset', async () => {
        assert.deepEqual(ids((await s.reader.queryFindings(org, { asset: 'h2' }, 0, 100)).items), [
          '3',
          '4',
        ]);
        const p = await s.reader.queryFindings(org, { asset: 'h2' }, 0, 1);
        assert.deepEqual(ids(p.items), ['3']);
        assert.deepEqual(
          ids((await s.reader.queryFindings(org, { asset: 'h2' }, p.lastSeq ?? -1, 1)).items),
          ['4'],
        );
      });
      it('filters by lastSeen since', async () => {
        const every = await all(s.reader, org);
        const f3 = every.find((f) => f.pluginId === '3');
        assert.ok(f3);
        const r = await s.reader.queryFindings(org, { since: f3.lastSeen }, 0, 100);
        assert.ok(ids(r.items).includes('3'));
        assert.ok(r.items.every((f) => f.lastSeen >= f3.lastSeen));
        assert.deepEqual(
          (await s.reader.queryFindings(org, { since: '2999-01-01T00:00:00.000Z' }, 0, 100)).items,
          [],
        );
      });
      it('filters by title substring, ASCII case-insensitively', async () => {
        assert.deepEqual(ids((await s.reader.queryFindings(org, { q: 'openssl' }, 0, 100)).items), [
          '1',
          '3',
        ]);
        assert.deepEqual(
          ids((await s.reader.queryFindings(org, { q: 'ÜNÏCODE' }, 0, 100)).items),
          [],
        );
        assert.deepEqual(ids((await s.reader.queryFindings(org, { q: 'Ünïcode' }, 0, 100)).items), [
          '4',
        ]);
      });
      it('combines filters (all must hold)', async () => {
        const r = await s.reader.queryFindings(
          org,
          { severity: ['low', 'info'], status: 'open', asset: 'h2', q: 'tls' },
          0,
          100,
        );
        assert.deepEqual(ids(r.items), ['3']);
      });
      it('treats filter values as data, never as query text', async () => {
        for (const v of ["') OR 1=1 --", '#sev', ':st', 'x" OR "1"="1']) {
          const r = await s.reader.queryFindings(org, { asset: v, cve: v, q: v }, 0, 100);
          assert.deepEqual(r.items, []);
        }
      });
    });

    describe('summary and get by id', () => {
      it('counts by severity and status and ranks assets and CVEs', async () => {
        const org = newOrg();
        await importScan(
          s.writer,
          org,
          [
            [
              scanned(1, { severity: 'high', cves: ['CVE-2024-0002'] }),
              scanned(2, { severity: 'high', cves: ['CVE-2024-0002', 'CVE-2024-0001'] }),
              scanned(3, { severity: 'low', asset: 'b-host', cves: ['CVE-2024-0003'] }),
              scanned(4, { severity: 'low', asset: 'a-host' }),
            ],
          ],
          [
            { scanner: 'nessus', asset: 'h1', category: '' },
            { scanner: 'nessus', asset: 'a-host', category: '' },
          ],
        );
        await importScan(
          s.writer,
          org,
          [[]],
          [{ scanner: 'nessus', asset: 'a-host', category: '' }],
        );
        const sum = await s.reader.summary(org, 2);
        assert.deepEqual(sum.bySeverityStatus, [
          { severity: 'high', status: 'open', count: 2 },
          { severity: 'low', status: 'fixed', count: 1 },
          { severity: 'low', status: 'open', count: 1 },
        ]);
        assert.deepEqual(sum.topAssets, [
          { asset: 'h1', open: 2 },
          { asset: 'b-host', open: 1 },
        ]);
        assert.deepEqual(sum.topCves, [
          { cve: 'CVE-2024-0002', open: 2 },
          { cve: 'CVE-2024-0001', open: 1 },
        ]);
        assert.equal(sum.inactive, 0);
        assert.deepEqual(await s.reader.summary(newOrg(), 10), {
          bySeverityStatus: [],
          topAssets: [],
          topCves: [],
          inactive: 0,
          active: [],
          overdue: [],
          dueSoon: 0,
          kev: 0,
          meanTimeToFix: [],
        });
      });

      it('gets one finding by id only within its org', async () => {
        const org = newOrg();
        await importScan(s.writer, org, [[scanned(7, { cves: ['CVE-2020-1234'] })]]);
        const [listed] = await all(s.reader, org);
        assert.ok(listed);
        const f = await s.reader.getFinding(org, listed.id);
        assert.deepEqual(f, listed);
        assert.equal(f?.evidence, 'evidence 7');
        assert.equal(await s.reader.getFinding(newOrg(), listed.id), undefined);
        assert.equal(await s.reader.getFinding(org, 'no-such-id'), undefined);
        const forged = listed.id.replace(/^[0-9a-f]/, (c) => (c === '0' ? '1' : '0'));
        assert.equal(await s.reader.getFinding(org, forged), undefined);
      });
    });

    describe('scan import', () => {
      it('counts new, updated, unchanged, fixed and reopened like a re-import should', async () => {
        const org = newOrg();
        assert.deepEqual(await importScan(s.writer, org, [[scanned(1), scanned(2), scanned(3)]]), {
          new: 3,
          updated: 0,
          unchanged: 0,
          fixed: 0,
          reopened: 0,
        });
        const first = await all(s.reader, org);
        assert.deepEqual(
          first.map((f) => f.status),
          ['open', 'open', 'open'],
        );
        // 1 same, 2 changed, 3 absent → fixed
        assert.deepEqual(
          await importScan(s.writer, org, [[scanned(1), scanned(2, { title: 'changed' })]]),
          { new: 0, updated: 1, unchanged: 1, fixed: 1, reopened: 0 },
        );
        const second = await all(s.reader, org);
        assert.deepEqual(
          second.map((f) => [f.pluginId, f.status, f.title]),
          [
            ['1', 'open', 'Finding 1'],
            ['2', 'open', 'changed'],
            ['3', 'fixed', 'Finding 3'],
          ],
        );
        assert.ok(second[2]?.fixedAt);
        // 3 back → reopened; a new one on another asset of the same scan
        assert.deepEqual(
          await importScan(s.writer, org, [
            [scanned(1), scanned(2, { title: 'changed' }), scanned(3), scanned(9, { asset: 'h9' })],
          ]),
          { new: 1, updated: 0, unchanged: 2, fixed: 0, reopened: 1 },
        );
        const third = await all(s.reader, org);
        assert.deepEqual(
          third.map((f) => [f.pluginId, f.status]),
          [
            ['1', 'open'],
            ['2', 'open'],
            ['3', 'reopened'],
            ['9', 'open'],
          ],
        );
        assert.equal(third[2]?.fixedAt, null);
        // identity and first sighting are kept; lastSeen moves
        assert.deepEqual(
          third.slice(0, 3).map((f) => [f.id, f.firstSeen]),
          first.map((f) => [f.id, f.firstSeen]),
        );
        assert.ok((third[0]?.lastSeen ?? '') >= (first[0]?.lastSeen ?? 'z'));
        // A reopened finding seen again stays reopened and counts as unchanged.
        assert.deepEqual(
          await importScan(s.writer, org, [
            [scanned(1), scanned(2, { title: 'changed' }), scanned(3)],
          ]),
          { new: 0, updated: 0, unchanged: 3, fixed: 0, reopened: 0 },
        );
      });

      it('counts a change in any content field, sealed or not, as updated', async () => {
        const changes: Partial<ScannedFinding>[] = [
          { description: 'other description' },
          { solution: 'other solution' },
          { evidence: 'other evidence' },
          { title: 'other title' },
          { severity: 'critical', severityRaw: '4' },
          { cvss3Score: 9.9 },
          { cvss3Vector: 'CVSS:3.1/AV:L' },
          { cvss2Score: 1.1 },
          { cvss2Vector: 'AV:L/AC:H' },
          { cves: ['CVE-2023-9999'] },
          { service: 'other' },
        ];
        const org = newOrg();
        const base = changes.map((_, i) => scanned(i + 1));
        await importScan(s.writer, org, [base]);
        assert.deepEqual(await importScan(s.writer, org, [base]), {
          new: 0,
          updated: 0,
          unchanged: changes.length,
          fixed: 0,
          reopened: 0,
        });
        const changed = changes.map((c, i) => scanned(i + 1, c));
        assert.deepEqual(await importScan(s.writer, org, [changed]), {
          new: 0,
          updated: changes.length,
          unchanged: 0,
          fixed: 0,
          reopened: 0,
        });
        const stored = await Promise.all(
          (await all(s.reader, org)).map((f) => s.reader.getFinding(org, f.id)),
        );
        assert.equal(stored[0]?.description, 'other description');
        assert.equal(stored[2]?.evidence, 'other evidence');
        // The same changed content again: unchanged.
        assert.equal((await importScan(s.writer, org, [changed])).unchanged, changes.length);
      });

      it('merges the same identity reported twice in one upload, across batches too', async () => {
        const org = newOrg();
        const counts = await importScan(s.writer, org, [
          [scanned(1, { cves: ['CVE-2024-0009'] }), scanned(1, { cves: ['CVE-2024-0001'] })],
          [scanned(1, { cves: ['CVE-2024-0005'], title: 'last wins' })],
        ]);
        assert.equal(counts.new, 1);
        const [f] = await all(s.reader, org);
        assert.deepEqual(f?.cves, ['CVE-2024-0001', 'CVE-2024-0005', 'CVE-2024-0009']);
        assert.equal(f?.title, 'last wins');
        // Re-reported with two rows again: the merged content is unchanged.
        const again = await importScan(s.writer, org, [
          [scanned(1, { cves: ['CVE-2024-0001', 'CVE-2024-0005'], title: 'last wins' })],
          [scanned(1, { cves: ['CVE-2024-0009'], title: 'last wins' })],
        ]);
        assert.deepEqual(again, { new: 0, updated: 0, unchanged: 1, fixed: 0, reopened: 0 });
        // Unchanged at its first row, changed by a later one: updated, once.
        const all3 = ['CVE-2024-0001', 'CVE-2024-0005', 'CVE-2024-0009'];
        const grown = await importScan(s.writer, org, [
          [scanned(1, { cves: all3, title: 'last wins' })],
          [scanned(1, { cves: ['CVE-2024-0010'], title: 'last wins' })],
          [scanned(1, { cves: ['CVE-2024-0011'], title: 'last wins' })],
        ]);
        assert.deepEqual(grown, { new: 0, updated: 1, unchanged: 0, fixed: 0, reopened: 0 });
        const [g] = await all(s.reader, org);
        assert.deepEqual(g?.cves, [...all3, 'CVE-2024-0010', 'CVE-2024-0011']);
        // The same within one batch: the second row sees the first one's effect.
        const all5 = [...all3, 'CVE-2024-0010', 'CVE-2024-0011'];
        const sameBatch = await importScan(s.writer, org, [
          [
            scanned(1, { cves: all5, title: 'last wins' }),
            scanned(1, { cves: ['CVE-2024-0012'], title: 'last wins' }),
          ],
        ]);
        assert.deepEqual(sameBatch, { new: 0, updated: 1, unchanged: 0, fixed: 0, reopened: 0 });
        const unchangedTwice = await importScan(s.writer, org, [
          [
            scanned(1, { cves: [...all5, 'CVE-2024-0012'], title: 'last wins' }),
            scanned(1, { cves: ['CVE-2024-0012'], title: 'last wins' }),
          ],
        ]);
        assert.deepEqual(unchangedTwice, {
          new: 0,
          updated: 0,
          unchanged: 1,
          fixed: 0,
          reopened: 0,
        });
      });

      it('keeps every evidence of an identity reported twice, once each, bounded', async () => {
        const org = newOrg();
        await importScan(s.writer, org, [
          [scanned(1, { evidence: 'output A' }), scanned(1, { evidence: 'output B' })],
          [scanned(1, { evidence: 'output A' })],
        ]);
        const [listed] = await all(s.reader, org);
        const f = await s.reader.getFinding(org, listed?.id ?? '');
        assert.equal(f?.evidence, `output A${MERGE_SEPARATOR}output B`);
        // The same two reports again: unchanged.
        const again = await importScan(s.writer, org, [
          [scanned(1, { evidence: 'output A' }), scanned(1, { evidence: 'output B' })],
        ]);
        assert.deepEqual(again, { new: 0, updated: 0, unchanged: 1, fixed: 0, reopened: 0 });
        // One of them only: updated to that one.
        const one = await importScan(s.writer, org, [[scanned(1, { evidence: 'output B' })]]);
        assert.equal(one.updated, 1);
        assert.equal((await s.reader.getFinding(org, listed?.id ?? ''))?.evidence, 'output B');
        // Many large reports: bounded, and the cut is said.
        const big = Array.from({ length: 5 }, (_, i) =>
          scanned(2, { evidence: `${i}`.repeat(20_000) }),
        );
        await importScan(s.writer, org, [big]);
        const two = (await all(s.reader, org)).find((x) => x.pluginId === '2');
        const e = (await s.reader.getFinding(org, two?.id ?? ''))?.evidence ?? '';
        assert.equal(e.length, 65_536);
        assert.match(e, /cut at 65536 characters\]$/);
      });

      it('tells findings apart by fingerprint; a location change is an update, not a new finding', async () => {
        const org = newOrg();
        const at = (fp: string, loc: string) =>
          scanned(1, { port: 0, protocol: 'sarif', fingerprint: fp, location: loc });
        const first = await importScan(s.writer, org, [
          [at('fp-a', 'a.py:1'), at('fp-b', 'b.py:9')],
        ]);
        assert.equal(first.new, 2);
        const moved = await importScan(s.writer, org, [
          [at('fp-a', 'a.py:2'), at('fp-b', 'b.py:9')],
        ]);
        assert.deepEqual(moved, { new: 0, updated: 1, unchanged: 1, fixed: 0, reopened: 0 });
        const items = await all(s.reader, org);
        assert.deepEqual(items.map((i) => [i.fingerprint, i.location]).sort(), [
          ['fp-a', 'a.py:2'],
          ['fp-b', 'b.py:9'],
        ]);
      });

      it('covers a target per scanner and category: a clean scan fixes only its own', async () => {
        const org = newOrg();
        const inCat = (n: number, category: string) =>
          scanned(n, { scanner: 'CodeQL', asset: 'repo', category });
        const covers = (category: string) => [{ scanner: 'CodeQL', asset: 'repo', category }];
        await importScan(
          s.writer,
          org,
          [[inCat(1, 'py'), inCat(2, 'js')]],
          [...covers('py'), ...covers('js')],
        );
        // A clean scan of category py: its finding is fixed, js's is not.
        const clean = await importScan(s.writer, org, [[]], covers('py'));
        assert.deepEqual(clean, { new: 0, updated: 0, unchanged: 0, fixed: 1, reopened: 0 });
        const byCat = Object.fromEntries(
          (await all(s.reader, org)).map((f) => [f.category, f.status]),
        );
        assert.deepEqual(byCat, { py: 'fixed', js: 'open' });
        // The same rule and fingerprint in two categories are two findings.
        const both = await importScan(
          s.writer,
          org,
          [[inCat(3, 'py'), inCat(3, 'js')]],
          [...covers('py'), ...covers('js')],
        );
        assert.equal(both.new, 2);
      });

      it("stores a scanner's analysis, seals nothing of it in the list, and counts verdicts apart", async () => {
        const org = newOrg();
        const analysis = {
          state: 'not_affected' as const,
          justification: 'code_not_reachable' as const,
          response: ['will_not_fix' as const],
          detail: 'the vulnerable method is never called',
        };
        await importScan(s.writer, org, [
          [
            scanned(1, { analysis, cves: ['CVE-2024-0001'] }),
            scanned(2, { cves: ['CVE-2024-0001'] }),
          ],
        ]);
        const items = await all(s.reader, org);
        const one = items.find((i) => i.pluginId === '1');
        assert.equal(one?.analysis?.state, 'not_affected');
        const full = await s.reader.getFinding(org, one?.id ?? '');
        assert.deepEqual(full?.analysis, analysis);
        const sum = await s.reader.summary(org, 5);
        assert.equal(sum.inactive, 1);
        assert.deepEqual(sum.bySeverityStatus, [{ severity: 'medium', status: 'open', count: 1 }]);
        assert.deepEqual(sum.topCves, [{ cve: 'CVE-2024-0001', open: 1 }]);
        // The same verdict again: unchanged; another detail: updated; none: updated.
        const same = await importScan(s.writer, org, [
          [
            scanned(1, { analysis, cves: ['CVE-2024-0001'] }),
            scanned(2, { cves: ['CVE-2024-0001'] }),
          ],
        ]);
        assert.equal(same.unchanged, 2);
        const other = await importScan(s.writer, org, [
          [
            scanned(1, { analysis: { ...analysis, detail: 'other' }, cves: ['CVE-2024-0001'] }),
            scanned(2, { cves: ['CVE-2024-0001'] }),
          ],
        ]);
        assert.equal(other.updated, 1);
        const none = await importScan(s.writer, org, [
          [scanned(1, { cves: ['CVE-2024-0001'] }), scanned(2, { cves: ['CVE-2024-0001'] })],
        ]);
        assert.equal(none.updated, 1);
        assert.equal((await s.reader.getFinding(org, one?.id ?? ''))?.analysis, null);
        assert.equal((await s.reader.summary(org, 5)).inactive, 0);
      });

      it("leaves seed records alone (they are no scanner's findings)", async () => {
        const org = newOrg();
        await s.writer.insertSeedBatch([seed(org, 1, { asset: 'h1' })]);
        await importScan(s.writer, org, [[scanned(1)]]);
        const f = await all(s.reader, org);
        assert.deepEqual(
          f.map((x) => [x.scanner, x.status]),
          [
            ['seed', 'open'],
            ['nessus', 'open'],
          ],
        );
      });

      it('abort leaves every finding as it was', async () => {
        const org = newOrg();
        await importScan(s.writer, org, [[scanned(1), scanned(2)]]);
        const before = await all(s.reader, org);
        const imp = await s.writer.beginScanImport({
          scanId: randomUUID(),
          org,
          format: 'native',
          principal: 't',
          startedAt: new Date().toISOString(),
        });
        await imp.stage(
          [scanned(1, { title: 'new title' }), scanned(3)],
          [{ scanner: 'nessus', asset: 'h1', category: '' }],
        );
        await imp.abort();
        assert.deepEqual(await all(s.reader, org), before);
        await assert.rejects(imp.stage([scanned(4)], []));
        // The org can be imported again afterwards, and nothing of the aborted one appears.
        assert.deepEqual(await importScan(s.writer, org, [[scanned(1), scanned(2)]]), {
          new: 0,
          updated: 0,
          unchanged: 2,
          fixed: 0,
          reopened: 0,
        });
      });

      it('keeps a 250-finding import invisible to readers until commit', async () => {
        const org = newOrg();
        await importScan(s.writer, org, [[scanned(0)]]);
        const before = await all(s.reader, org);
        const imp = await s.writer.beginScanImport({
          scanId: randomUUID(),
          org,
          format: 'native',
          principal: 't',
          startedAt: new Date().toISOString(),
        });
        await imp.stage(
          Array.from({ length: 125 }, (_, i) =>
            scanned(i, { title: i === 0 ? 'updated' : `F${i}` }),
          ),
          [{ scanner: 'nessus', asset: 'h1', category: '' }],
        );
        await imp.stage(
          Array.from({ length: 125 }, (_, i) => scanned(125 + i)),
          [],
        );
        assert.deepEqual(await all(s.reader, org), before);
        assert.deepEqual((await s.reader.summary(org, 5)).bySeverityStatus, [
          { severity: 'medium', status: 'open', count: 1 },
        ]);
        const counts = await imp.commit(250);
        assert.deepEqual(counts, { new: 249, updated: 1, unchanged: 0, fixed: 0, reopened: 0 });
        const after = await all(s.reader, org);
        assert.equal(after.length, 250);
        assert.equal(after[0]?.title, 'updated');
        await assert.rejects(imp.commit(1));
      });
    });

    describe('idempotency keys', () => {
      it('claims, reports running, completes, replays and releases', async () => {
        const scope = `scope-${randomUUID()}`;
        const now = new Date();
        assert.deepEqual(await s.idempotency.begin(scope, 'k1', now), { state: 'started' });
        assert.deepEqual(await s.idempotency.begin(scope, 'k1', now), { state: 'running' });
        // another scope is independent
        assert.deepEqual(await s.idempotency.begin(`${scope}-b`, 'k1', now), { state: 'started' });
        await s.idempotency.complete(scope, 'k1', {
          requestHash: 'h1',
          status: 201,
          body: '{"stored":1}',
        });
        const done = { state: 'done', requestHash: 'h1', status: 201, body: '{"stored":1}' };
        assert.deepEqual(await s.idempotency.begin(scope, 'k1', now), done);
        await s.idempotency.release(scope, 'k1'); // a done record is not released
        assert.deepEqual(await s.idempotency.begin(scope, 'k1', now), done);
        assert.deepEqual(await s.idempotency.begin(scope, 'k2', now), { state: 'started' });
        await s.idempotency.release(scope, 'k2');
        assert.deepEqual(await s.idempotency.begin(scope, 'k2', now), { state: 'started' });
      });

      it('forgets records older than 48 hours', async () => {
        const scope = `scope-${randomUUID()}`;
        const old = new Date(Date.now() - 49 * 3600 * 1000);
        assert.deepEqual(await s.idempotency.begin(scope, 'k', old), { state: 'started' });
        await s.idempotency.complete(scope, 'k', { requestHash: 'h', status: 201, body: '{}' });
        assert.deepEqual(await s.idempotency.begin(scope, 'k', new Date()), { state: 'started' });
      });
    });

    describe('policies', () => {
      it('allows only an explicit grant, for that principal, action and org', async () => {
        const org = newOrg();
        const scanner = { type: 'ou' as const, name: `scanner-${org}` };
        await s.grant({ principal: scanner, action: 'findings:write', org });
        assert.equal(await s.policies.isAllowed(scanner, 'findings:write', org), true);
        assert.equal(await s.policies.isAllowed(scanner, 'findings:read', org), false);
        assert.equal(await s.policies.isAllowed(scanner, 'findings:write', newOrg()), false);
        assert.equal(
          await s.policies.isAllowed({ type: 'client', name: scanner.name }, 'findings:write', org),
          false,
        );
        const role = { type: 'iam' as const, name: 'arn:aws:iam::123456789012:role/scanner' };
        assert.equal(await s.policies.isAllowed(role, 'findings:read', org), false);
        await s.grant({ principal: role, action: 'findings:read', org });
        assert.equal(await s.policies.isAllowed(role, 'findings:read', org), true);
        await s.revoke({ principal: scanner, action: 'findings:write', org });
        assert.equal(await s.policies.isAllowed(scanner, 'findings:write', org), false);
      });
    });
  });
}
