// The scan-import classification (functions/ingest/classify.ts): the decision
// table, the merge re-count rules, the fixed rule and the one "unchanged"
// rule in each form a store uses, then every transition run over the
// in-memory store, which decides through classify.ts alone (as SQLite and
// DynamoDB do; test/contract holds all three to one contract).
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  newFinding,
  type CoveredAsset,
  type ScannedFinding,
  type ScannerAnalysis,
} from '../../src/core/finding.js';
import type { ScanCounts } from '../../src/core/ports.js';
import { packFields } from '../../src/crypto/envelope.js';
import {
  becomesFixed,
  analysisJson,
  canonicalContent,
  classify,
  recounts,
  sameContent,
  sameCves,
  samePackedContent,
  ScanTally,
  seenAs,
  unitedCves,
  type FindingContent,
} from '../../src/functions/ingest/classify.js';
import { createMemoryStore, type MemoryStore } from '../helpers/memory-store.js';

function finding(n: number, over: Partial<ScannedFinding> = {}): ScannedFinding {
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

const counts = (over: Partial<ScanCounts>): ScanCounts => ({
  new: 0,
  updated: 0,
  unchanged: 0,
  fixed: 0,
  reopened: 0,
  ...over,
});

describe('classify', () => {
  it('calls a finding with no stored one new', () => {
    assert.equal(classify(null, null), 'new');
  });

  it('reopens a fixed finding and compares an open or reopened one', () => {
    assert.equal(classify('fixed', null), 'reopened');
    assert.equal(classify('open', null), 'seen');
    assert.equal(classify('reopened', null), 'seen');
    assert.equal(seenAs(true), 'unchanged');
    assert.equal(seenAs(false), 'updated');
  });

  it('merges whatever the upload met before, whatever is stored', () => {
    for (const stored of [null, 'open', 'fixed', 'reopened'] as const) {
      for (const earlier of ['new', 'reopened', 'unchanged', 'updated'] as const) {
        assert.equal(classify(stored, earlier), 'merged', `${stored} ${earlier}`);
      }
    }
  });

  it('unites CVEs sorted, without duplicates', () => {
    assert.deepEqual(unitedCves(['CVE-2024-0009', 'CVE-2024-0001'], ['CVE-2024-0005']), [
      'CVE-2024-0001',
      'CVE-2024-0005',
      'CVE-2024-0009',
    ]);
    assert.deepEqual(unitedCves(['CVE-2024-0001'], ['CVE-2024-0001']), ['CVE-2024-0001']);
  });
});

describe('ScanTally', () => {
  it('counts first sightings and fixed findings', () => {
    const t = new ScanTally();
    for (const c of ['new', 'new', 'reopened', 'unchanged', 'updated'] as const) t.count(c);
    t.fixed(3);
    assert.deepEqual(t.result(), { new: 2, updated: 1, unchanged: 1, fixed: 3, reopened: 1 });
  });

  it('keeps a merged new or reopened finding as it was counted, whatever the merge gives', () => {
    const t = new ScanTally();
    t.count('new');
    t.count('reopened');
    assert.equal(recounts('new'), false);
    assert.equal(recounts('reopened'), false);
    assert.equal(t.merge('new', false), 'new');
    assert.equal(t.merge('reopened', false), 'reopened');
    assert.equal(t.merge('reopened', true), 'reopened');
    assert.deepEqual(t.result(), counts({ new: 1, reopened: 1 }));
  });

  it('counts a merged unchanged or updated finding again against its content before the upload', () => {
    const t = new ScanTally();
    t.count('unchanged');
    t.count('updated');
    assert.equal(recounts('unchanged'), true);
    assert.equal(recounts('updated'), true);
    assert.equal(t.merge('unchanged', false), 'updated');
    assert.deepEqual(t.result(), counts({ updated: 2 }));
    assert.equal(t.merge('updated', true), 'unchanged');
    assert.deepEqual(t.result(), counts({ updated: 1, unchanged: 1 }));
    assert.equal(t.merge('unchanged', true), 'unchanged');
    assert.deepEqual(t.result(), counts({ updated: 1, unchanged: 1 }));
  });

  it('hands out copies of its counts', () => {
    const t = new ScanTally();
    const r = t.result();
    r.new = 99;
    assert.equal(t.result().new, 0);
  });
});

describe('becomesFixed', () => {
  const base = { status: 'open', covered: true, touched: false, seed: false };
  it('fixes an open or reopened finding of a covered asset the upload did not touch', () => {
    assert.equal(becomesFixed(base), true);
    assert.equal(becomesFixed({ ...base, status: 'reopened' }), true);
  });
  it('leaves it alone when uncovered, touched, already fixed or a seed record', () => {
    assert.equal(becomesFixed({ ...base, covered: false }), false);
    assert.equal(becomesFixed({ ...base, touched: true }), false);
    assert.equal(becomesFixed({ ...base, status: 'fixed' }), false);
    assert.equal(becomesFixed({ ...base, seed: true }), false);
  });
});

describe('the unchanged rule', () => {
  const changes: Partial<ScannedFinding>[] = [
    { title: 'other title' },
    { severity: 'critical' },
    { severityRaw: '4' },
    { cvss3Score: 9.9 },
    { cvss3Score: null },
    { cvss3Vector: 'CVSS:3.1/AV:L' },
    { cvss2Score: 1.1 },
    { cvss2Vector: 'AV:L/AC:H' },
    { cves: ['CVE-2023-9999'] },
    { service: 'other' },
    { description: 'other description' },
    { solution: 'other solution' },
    { evidence: 'other evidence' },
    { location: 'src/app.py:13' },
    { analysis: { state: 'false_positive', justification: null, response: [], detail: '' } },
    {
      analysis: {
        state: 'not_affected',
        justification: 'code_not_reachable',
        response: ['will_not_fix'],
        detail: 'why',
      },
    },
  ];
  // The packed-store form, as the SQLite adapter calls it.
  const packed = (a: FindingContent, b: FindingContent) =>
    samePackedContent(
      { ...a, cves: JSON.stringify(a.cves), analysis: analysisJson(a.analysis) },
      () => packFields(a),
      b,
      analysisJson(b.analysis),
      JSON.stringify(b.cves),
      packFields(b),
    );
  const digest = (c: FindingContent) =>
    createHash('sha256')
      .update(canonicalContent(c, analysisJson(c.analysis), c.cves))
      .update(packFields(c))
      .digest('base64url');

  it('finds the same content the same, in every form', () => {
    const a = finding(1, { cves: ['CVE-2024-0001', 'CVE-2024-0002'] });
    const b = structuredClone(a);
    assert.equal(sameContent(a, b), true);
    assert.equal(packed(a, b), true);
    assert.equal(digest(a), digest(b));
  });

  it('finds a change in any one content field, in every form', () => {
    const a = finding(1);
    for (const c of changes) {
      const b = { ...a, ...c };
      assert.equal(sameContent(a, b), false, JSON.stringify(c));
      assert.equal(packed(a, b), false, JSON.stringify(c));
      assert.notEqual(digest(a), digest(b), JSON.stringify(c));
    }
  });

  it('ignores identity and the order CVEs are listed in', () => {
    const a = finding(1, { cves: ['CVE-2024-0002', 'CVE-2024-0001'] });
    const b = finding(1, {
      asset: 'elsewhere',
      port: 80,
      cves: ['CVE-2024-0001', 'CVE-2024-0002'],
    });
    assert.equal(sameContent(a, b), true);
    assert.equal(packed(a, b), true);
    assert.equal(digest(a), digest(b));
    assert.equal(sameCves(['CVE-2024-0001'], ['CVE-2024-0001', 'CVE-2024-0001']), false);
    assert.equal(sameCves([], []), true);
  });

  it('opens the stored fields only when everything else is equal, and calls none different', () => {
    let opened = 0;
    const open = () => {
      opened++;
      return undefined;
    };
    const a = finding(1);
    const stored = { ...a, cves: '[]', analysis: null };
    assert.equal(
      samePackedContent(stored, open, { ...a, title: 'x' }, null, '[]', packFields(a)),
      false,
    );
    assert.equal(
      samePackedContent(stored, open, a, null, '["CVE-2024-0001"]', packFields(a)),
      false,
    );
    assert.equal(
      samePackedContent(stored, open, a, '{"state":"resolved"}', '[]', packFields(a)),
      false,
    );
    assert.equal(opened, 0);
    assert.equal(samePackedContent(stored, open, a, null, '[]', packFields(a)), false);
    assert.equal(opened, 1);
  });

  it('gives one answer in every form for any two findings', () => {
    const text = fc.string({ maxLength: 6 });
    const content = fc.record({
      title: fc.constantFrom('t', 'u'),
      severity: fc.constantFrom('low', 'high'),
      severityRaw: fc.constantFrom('1', '3'),
      cvss3Score: fc.constantFrom(null, 5.3, 7),
      cvss3Vector: fc.constantFrom(null, 'AV:N'),
      cvss2Score: fc.constantFrom(null, 5),
      cvss2Vector: fc.constantFrom(null, 'AV:L'),
      service: fc.constantFrom('www', ''),
      location: fc.constantFrom('', 'a.py:1'),
      analysis: fc.constantFrom<ScannerAnalysis | null>(null, {
        state: 'false_positive',
        justification: null,
        response: [],
        detail: 'd',
      }),
      cves: fc.uniqueArray(fc.constantFrom('CVE-2024-0001', 'CVE-2024-0002', 'CVE-2024-0003'), {
        maxLength: 3,
      }),
      description: text,
      solution: text,
      evidence: text,
    });
    fc.assert(
      fc.property(content, content, (a, b) => {
        const same = sameContent(a, b);
        assert.equal(packed(a, b), same);
        assert.equal(digest(a) === digest(b), same);
        // Same fields split differently between the sealed three never look alike.
        const shifted = { ...a, description: a.description + a.solution, solution: '' };
        if (a.solution !== '') assert.equal(sameContent(a, shifted), false);
        if (a.solution !== '') assert.notEqual(digest(a), digest(shifted));
      }),
      { numRuns: 500 },
    );
  });
});

describe('scan import over the in-memory store (classify.ts decides)', () => {
  async function importScan(
    store: MemoryStore,
    org: string,
    batches: ScannedFinding[][],
    assets: CoveredAsset[] = [{ scanner: 'nessus', asset: 'h1', category: '' }],
  ): Promise<ScanCounts> {
    const imp = await store.writer.beginScanImport({
      scanId: randomUUID(),
      org,
      format: 'native',
      principal: 'unit',
      startedAt: new Date().toISOString(),
    });
    let received = 0;
    for (const [i, b] of batches.entries()) {
      received += b.length;
      await imp.stage(b, i === 0 ? assets : []);
    }
    return imp.commit(received);
  }
  const setup = async (first: ScannedFinding[]) => {
    const store = createMemoryStore();
    const org = 'org-a';
    await importScan(store, org, [first]);
    return { store, org };
  };
  const A = 'CVE-2024-0001';
  const B = 'CVE-2024-0002';
  const C = 'CVE-2024-0003';

  it('new: a finding never stored', async () => {
    const store = createMemoryStore();
    assert.deepEqual(
      await importScan(store, 'org-a', [[finding(1), finding(2)]]),
      counts({ new: 2 }),
    );
    assert.deepEqual(
      store.rows('org-a').map((r) => r.status),
      ['open', 'open'],
    );
  });

  it('merged new: one identity twice in an upload is one new finding, CVEs united, last fields', async () => {
    const store = createMemoryStore();
    const c = await importScan(store, 'org-a', [
      [finding(1, { cves: [C] }), finding(1, { cves: [A] })],
      [finding(1, { cves: [B], title: 'last' })],
    ]);
    assert.deepEqual(c, counts({ new: 1 }));
    const [r] = store.rows('org-a');
    assert.deepEqual(r?.cves, [A, B, C]);
    assert.equal(r?.title, 'last');
  });

  it('unchanged: the same content again moves only lastSeen', async () => {
    const { store, org } = await setup([finding(1, { cves: [B, A] })]);
    const before = store.rows(org);
    // CVEs in another order are no change.
    assert.deepEqual(
      await importScan(store, org, [[finding(1, { cves: [A, B] })]]),
      counts({ unchanged: 1 }),
    );
    const after = store.rows(org);
    assert.deepEqual(
      after.map((r) => [r.id, r.status, r.firstSeen]),
      before.map((r) => [r.id, r.status, r.firstSeen]),
    );
    assert.ok((after[0]?.lastSeen ?? '') >= (before[0]?.lastSeen ?? 'z'));
  });

  it('updated: changed content is stored and counted once', async () => {
    const { store, org } = await setup([finding(1)]);
    assert.deepEqual(
      await importScan(store, org, [[finding(1, { evidence: 'new output' })]]),
      counts({ updated: 1 }),
    );
    assert.equal(store.rows(org)[0]?.evidence, 'new output');
    assert.equal(store.rows(org)[0]?.status, 'open');
  });

  it('merged unchanged → updated: unchanged at its first row, changed by a later one', async () => {
    const { store, org } = await setup([finding(1, { cves: [A, B] })]);
    const c = await importScan(store, org, [
      [finding(1, { cves: [A, B] })],
      [finding(1, { cves: [C] })],
    ]);
    assert.deepEqual(c, counts({ updated: 1 }));
    assert.deepEqual(store.rows(org)[0]?.cves, [A, B, C]);
  });

  it('merged updated → unchanged: rows that each differ but together are the stored content', async () => {
    const { store, org } = await setup([finding(1, { cves: [A, B] })]);
    const c = await importScan(store, org, [
      [finding(1, { cves: [A] }), finding(1, { cves: [B] })],
    ]);
    assert.deepEqual(c, counts({ unchanged: 1 }));
  });

  it('reopened: a fixed finding seen again, whatever its content', async () => {
    const { store, org } = await setup([finding(1), finding(2)]);
    assert.deepEqual(
      await importScan(store, org, [[finding(1)]]),
      counts({ unchanged: 1, fixed: 1 }),
    );
    assert.equal(store.rows(org)[1]?.status, 'fixed');
    assert.deepEqual(
      await importScan(store, org, [[finding(1), finding(2, { title: 'changed' })]]),
      counts({ unchanged: 1, reopened: 1 }),
    );
    const r = store.rows(org)[1];
    assert.deepEqual([r?.status, r?.fixedAt, r?.title], ['reopened', null, 'changed']);
    // Reopened and seen again: an open finding like any other.
    assert.deepEqual(
      await importScan(store, org, [[finding(1), finding(2, { title: 'changed' })]]),
      counts({ unchanged: 2 }),
    );
    assert.equal(store.rows(org)[1]?.status, 'reopened');
  });

  it('reopened then merged: stays counted reopened, once', async () => {
    const { store, org } = await setup([finding(1), finding(2)]);
    await importScan(store, org, [[finding(1)]]);
    const c = await importScan(store, org, [
      [finding(1), finding(2, { cves: [A] })],
      [finding(2, { cves: [B] })],
    ]);
    assert.deepEqual(c, counts({ unchanged: 1, reopened: 1 }));
    const r = store.rows(org)[1];
    assert.deepEqual([r?.status, r?.cves], ['reopened', [A, B]]);
  });

  it('fixed: an open finding of a covered asset that the upload no longer reports', async () => {
    const { store, org } = await setup([finding(1), finding(2)]);
    assert.deepEqual(
      await importScan(store, org, [[finding(1)]]),
      counts({ unchanged: 1, fixed: 1 }),
    );
    const r = store.rows(org)[1];
    assert.equal(r?.status, 'fixed');
    assert.ok(r?.fixedAt);
    // A clean scan of the asset (no findings at all) fixes the rest.
    assert.deepEqual(await importScan(store, org, [[]]), counts({ fixed: 1 }));
    assert.deepEqual(
      store.rows(org).map((x) => x.status),
      ['fixed', 'fixed'],
    );
  });

  it('not fixed: a finding of an asset the upload does not cover', async () => {
    const { store, org } = await setup([finding(1), finding(2, { asset: 'h2' })]);
    assert.deepEqual(await importScan(store, org, [[finding(1)]]), counts({ unchanged: 1 }));
    assert.equal(store.rows(org)[1]?.status, 'open');
    // Covered by another scanner only: still not this finding's scan.
    assert.deepEqual(
      await importScan(store, org, [[]], [{ scanner: 'other', asset: 'h2', category: '' }]),
      counts({}),
    );
    assert.equal(store.rows(org)[1]?.status, 'open');
  });

  it('not fixed: a finding the upload touched', async () => {
    const { store, org } = await setup([finding(1)]);
    assert.deepEqual(
      await importScan(store, org, [[finding(1, { title: 'changed' })]]),
      counts({ updated: 1 }),
    );
    assert.equal(store.rows(org)[0]?.status, 'open');
  });

  it('not fixed again: a finding already fixed keeps its fixedAt', async () => {
    const { store, org } = await setup([finding(1), finding(2)]);
    await importScan(store, org, [[finding(1)]]);
    const fixedAt = store.rows(org)[1]?.fixedAt;
    assert.deepEqual(await importScan(store, org, [[finding(1)]]), counts({ unchanged: 1 }));
    assert.equal(store.rows(org)[1]?.fixedAt, fixedAt);
  });

  it('not fixed: a seed record, even on an asset the upload covers under its scanner', async () => {
    const store = createMemoryStore();
    const org = 'org-a';
    await store.writer.insertSeedBatch([
      {
        vulnId: 'V-1',
        org,
        asset: 'h1',
        dueDate: '2026-12-31',
        pluginId: '1',
        title: 'seeded',
        priority: 'P1',
      },
    ]);
    const c = await importScan(
      store,
      org,
      [[finding(1)]],
      [
        { scanner: 'nessus', asset: 'h1', category: '' },
        { scanner: 'seed', asset: 'h1', category: '' },
      ],
    );
    // Same asset and plugin id as the seed record: a separate finding.
    assert.deepEqual(c, counts({ new: 1 }));
    assert.deepEqual(
      store.rows(org).map((r) => [r.scanner, r.status]),
      [
        ['seed', 'open'],
        ['nessus', 'open'],
      ],
    );
  });

  it('leaves nothing of an aborted upload', async () => {
    const { store, org } = await setup([finding(1)]);
    const before = store.rows(org);
    const imp = await store.writer.beginScanImport({
      scanId: randomUUID(),
      org,
      format: 'native',
      principal: 'unit',
      startedAt: new Date().toISOString(),
    });
    await imp.stage(
      [finding(1, { title: 'x' }), finding(2)],
      [{ scanner: 'nessus', asset: 'h1', category: '' }],
    );
    assert.deepEqual(store.rows(org), before);
    await imp.abort();
    assert.deepEqual(store.rows(org), before);
    await assert.rejects(imp.commit(2));
  });
});
