// Issue 16: one specification of working the findings that every store meets
// (SQLite and DynamoDB): people's analysis with revisions, history, expiry
// of risk acceptance at an injected clock, all-or-nothing bulk changes, SLA
// due times and overdue counts at a fixed clock, and the KEV/EPSS join with
// its filters and priority order. Exercised through the ports only; each test
// works in orgs of its own.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { VaultError } from '../../src/core/errors.js';
import type { EpssScore, FeedStore, KevEntry } from '../../src/core/feeds.js';
import { newFinding, type ScannedFinding } from '../../src/core/finding.js';
import type {
  Finding,
  FindingFilter,
  FindingsAfter,
  FindingsReader,
  FindingsTriage,
  FindingsWriter,
  SlaPolicies,
} from '../../src/core/ports.js';
import { DEFAULT_SLA, type TriageChange } from '../../src/core/triage.js';

export interface TriageContractStore {
  reader: FindingsReader;
  writer: FindingsWriter;
  triage: FindingsTriage;
  sla: SlaPolicies;
  /** The feeds the reader joins (imported through the store's own FeedStore). */
  feeds: FeedStore;
  close(): Promise<void>;
}

const newOrg = () => `tri-${randomUUID().slice(0, 8)}`;
const DAY = 86_400_000;
const iso = (t: number) => new Date(t).toISOString();

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
    description: `description ${n}`,
    ...over,
  });
}

async function importScan(
  w: FindingsWriter,
  org: string,
  findings: ScannedFinding[],
  scanId = randomUUID(),
): Promise<string> {
  const imp = await w.beginScanImport({
    scanId,
    org,
    format: 'native',
    principal: 'triage-contract',
    startedAt: new Date().toISOString(),
  });
  await imp.stage(findings, [{ scanner: 'nessus', asset: 'h1', category: '' }]);
  await imp.commit(findings.length);
  return scanId;
}

async function all(r: FindingsReader, org: string, filter: FindingFilter = {}): Promise<Finding[]> {
  const out: Finding[] = [];
  let after: FindingsAfter = 0;
  for (;;) {
    const page = await r.queryFindings(org, filter, after, 2, 'full');
    out.push(...page.items);
    if (page.lastSeq === undefined) return out;
    after =
      filter.sort === undefined || filter.sort === 'seq'
        ? page.lastSeq
        : { key: page.lastKey as number, seq: page.lastSeq };
  }
}

const change = (over: Partial<TriageChange> = {}): TriageChange => ({
  state: 'false_positive',
  justification: null,
  response: [],
  comment: '',
  expiresAt: null,
  ...over,
});

const isCode = (code: string, msg?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof VaultError, String(err));
  assert.equal(err.code, code);
  if (msg) assert.match(err.message, msg);
  return true;
};

const source = (version: string) => ({
  version,
  date: '2026-12-01',
  sha256: () => 'ab'.repeat(32),
});

function kev(cve: string, dueDate: string): KevEntry {
  return {
    cve,
    dateAdded: '2026-11-01',
    dueDate,
    ransomware: true,
    vendorProject: 'Apache',
    product: 'Log4j',
    vulnerabilityName: 'Apache Log4j2 Remote Code Execution Vulnerability',
  };
}

export function triageContract(name: string, open: () => Promise<TriageContractStore>): void {
  describe(`triage contract: ${name}`, () => {
    let s: TriageContractStore;
    before(async () => {
      s = await open();
    });
    after(async () => {
      await s.close();
    });

    const one = async (org: string, n = 1) => {
      const f = (await all(s.reader, org)).find((x) => x.pluginId === String(n));
      assert.ok(f, `finding ${n}`);
      return f;
    };
    const meta = (ifRev: number) => ({ by: 'ou:customer', at: new Date().toISOString(), ifRev });

    describe('analysis', () => {
      it('sets the analysis when the revision still matches, and moves the revision on', async () => {
        const org = newOrg();
        await importScan(s.writer, org, [scanned(1)]);
        const f = await one(org);
        assert.equal(f.triage, null);
        const r = await s.triage.setAnalysis(
          org,
          f.id,
          change({ comment: 'lab host' }),
          meta(f.rev),
        );
        assert.deepEqual(r, { rev: f.rev + 1, from: null });
        const g = await s.reader.getFinding(org, f.id);
        assert.equal(g?.rev, f.rev + 1);
        assert.equal(g?.triage?.state, 'false_positive');
        assert.equal(g?.triage?.by, 'ou:customer');
        assert.equal(g?.triage?.comment, 'lab host');
        assert.equal(g?.status, 'open', 'the status is the scanner’s, untouched');
      });

      it('refuses a stale revision and an unknown id, changing nothing', async () => {
        const org = newOrg();
        await importScan(s.writer, org, [scanned(1)]);
        const f = await one(org);
        await s.triage.setAnalysis(org, f.id, change({ state: 'exploitable' }), meta(f.rev));
        await assert.rejects(
          s.triage.setAnalysis(org, f.id, change(), meta(f.rev)),
          isCode('precondition_failed'),
        );
        assert.equal((await s.reader.getFinding(org, f.id))?.triage?.state, 'exploitable');
        await assert.rejects(
          s.triage.setAnalysis(org, 'no-such-id', change(), meta(1)),
          isCode('not_found'),
        );
        await assert.rejects(
          s.triage.setAnalysis(newOrg(), f.id, change(), meta(f.rev + 1)),
          isCode('not_found'),
          "another org's finding is not found",
        );
      });

      it('keeps a false positive through three re-imports, a fix and a reopening', async () => {
        const org = newOrg();
        await importScan(s.writer, org, [scanned(1), scanned(2)]);
        const f = await one(org);
        await s.triage.setAnalysis(org, f.id, change(), meta(f.rev));
        await importScan(s.writer, org, [scanned(1), scanned(2)]);
        await importScan(s.writer, org, [scanned(2)]); // finding 1 fixed
        await importScan(s.writer, org, [scanned(1, { title: 'Finding 1 v2' }), scanned(2)]);
        const g = await s.reader.getFinding(org, f.id);
        assert.equal(g?.status, 'reopened');
        assert.equal(g?.triage?.state, 'false_positive');
        const active = await all(s.reader, org, { active: true });
        assert.deepEqual(
          active.map((x) => x.pluginId),
          ['2'],
        );
        const fp = await all(s.reader, org, { analysis: ['false_positive'] });
        assert.deepEqual(
          fp.map((x) => x.id),
          [f.id],
        );
        const sum = await s.reader.summary(org, 10);
        assert.deepEqual(sum.active, [{ severity: 'medium', count: 1 }]);
        assert.equal(sum.inactive, 1);
      });

      it("lets a person's analysis win over the scanner's verdict, which re-imports keep updating", async () => {
        const org = newOrg();
        const verdict = {
          state: 'false_positive' as const,
          justification: null,
          response: [],
          detail: 'suppressed in code',
        };
        await importScan(s.writer, org, [scanned(1, { analysis: verdict })]);
        let f = await one(org);
        assert.equal((await all(s.reader, org, { active: true })).length, 0);
        await s.triage.setAnalysis(org, f.id, change({ state: 'exploitable' }), meta(f.rev));
        await importScan(s.writer, org, [scanned(1, { analysis: verdict })]);
        f = await one(org);
        assert.equal(f.triage?.state, 'exploitable');
        assert.equal(
          f.analysis?.state,
          'false_positive',
          "the scanner's verdict is kept beside it",
        );
        assert.deepEqual(
          (await all(s.reader, org, { active: true })).map((x) => x.id),
          [f.id],
        );
        assert.deepEqual(
          (await all(s.reader, org, { analysis: ['exploitable'] })).map((x) => x.id),
          [f.id],
        );
      });

      it('makes a risk acceptance active again at expiresAt, and the sweep records it', async () => {
        const org = newOrg();
        await importScan(s.writer, org, [scanned(1)]);
        const f = await one(org);
        const expiresAt = iso(Date.now() + 30 * DAY);
        await s.triage.setAnalysis(
          org,
          f.id,
          change({ state: 'risk_accepted', expiresAt, comment: 'vendor fix in Q1' }),
          meta(f.rev),
        );
        const before = iso(Date.parse(expiresAt) - 1000);
        const afterwards = iso(Date.parse(expiresAt) + 1000);
        assert.equal((await all(s.reader, org, { active: true, now: before })).length, 0);
        assert.deepEqual(
          (await all(s.reader, org, { active: true, now: afterwards })).map((x) => x.id),
          [f.id],
          'active again at read, before any sweep',
        );
        assert.deepEqual((await s.reader.summary(org, 10, afterwards)).active, [
          { severity: 'medium', count: 1 },
        ]);
        assert.ok((await s.triage.sweepExpired(afterwards)) >= 1);
        const g = await s.reader.getFinding(org, f.id);
        assert.equal(g?.triage?.state, 'in_triage');
        assert.equal(g?.triage?.by, 'vulnvault');
        const h = await s.reader.history(org, f.id, null, 100);
        assert.deepEqual(
          h?.items.map((e) => [e.kind, e.from, e.to, e.by]),
          [
            ['opened', null, 'open', null],
            ['analysis', null, 'risk_accepted', 'ou:customer'],
            ['expired', 'risk_accepted', 'in_triage', 'vulnvault'],
          ],
        );
        assert.equal(h?.items[1]?.analysis?.comment, 'vendor fix in Q1');
        assert.equal(h?.items[2]?.at, expiresAt);
        assert.equal(await s.triage.sweepExpired(afterwards), 0, 'recorded once');
      });
    });

    describe('bulk analysis', () => {
      it('changes every finding given by ids, and reports where each came from', async () => {
        const org = newOrg();
        await importScan(s.writer, org, [scanned(1), scanned(2), scanned(3)]);
        const [f1, f2] = await all(s.reader, org);
        await s.triage.setAnalysis(org, f1!.id, change({ state: 'exploitable' }), meta(f1!.rev));
        const r = await s.triage.bulkSetAnalysis(
          org,
          { ids: [f1!.id, f2!.id] },
          change({ state: 'in_triage' }),
          { by: 'ou:customer', at: new Date().toISOString(), max: 10_000 },
        );
        assert.deepEqual(
          [...r.changes].sort((a, b) => a.id.localeCompare(b.id)),
          [
            { id: f1!.id, from: 'exploitable' },
            { id: f2!.id, from: null },
          ].sort((a, b) => a.id.localeCompare(b.id)),
        );
        assert.equal((await all(s.reader, org, { analysis: ['in_triage'] })).length, 2);
        assert.equal((await all(s.reader, org, { analysis: ['none'] })).length, 1);
      });

      it('changes none when one id is unknown or the filter matches too many', async () => {
        const org = newOrg();
        await importScan(s.writer, org, [scanned(1), scanned(2)]);
        const [f1] = await all(s.reader, org);
        const m = { by: 'ou:customer', at: new Date().toISOString(), max: 10_000 };
        await assert.rejects(
          s.triage.bulkSetAnalysis(org, { ids: [f1!.id, 'missing-1'] }, change(), m),
          isCode('not_found', /ids\[1\]/),
        );
        await assert.rejects(
          s.triage.bulkSetAnalysis(org, { filter: {} }, change(), { ...m, max: 1 }),
          isCode('triage_too_many'),
        );
        const after = await all(s.reader, org);
        assert.deepEqual(
          after.map((x) => [x.triage, x.rev]),
          after.map(() => [null, f1!.rev]),
        );
      });

      it('changes the findings a filter matches', async () => {
        const org = newOrg();
        await importScan(s.writer, org, [
          scanned(1, { severity: 'high' }),
          scanned(2, { severity: 'low' }),
          scanned(3, { severity: 'high' }),
        ]);
        const r = await s.triage.bulkSetAnalysis(
          org,
          { filter: { severity: ['high'] } },
          change({ state: 'not_affected', justification: 'code_not_reachable' }),
          { by: 'ou:customer', at: new Date().toISOString(), max: 10_000 },
        );
        assert.equal(r.changes.length, 2);
        assert.deepEqual(
          (await all(s.reader, org, { active: true })).map((x) => x.pluginId),
          ['2'],
        );
      });
    });

    describe('history', () => {
      it('lists opened, every status change with its scan, and analysis changes, oldest first, in pages', async () => {
        const org = newOrg();
        const first = await importScan(s.writer, org, [scanned(1), scanned(2)]);
        const fixing = await importScan(s.writer, org, [scanned(2)]);
        const reopening = await importScan(s.writer, org, [scanned(1), scanned(2)]);
        const f = await one(org);
        await s.triage.setAnalysis(org, f.id, change({ state: 'exploitable' }), meta(f.rev));
        const h = await s.reader.history(org, f.id, null, 100);
        assert.deepEqual(
          h?.items.map((e) => [e.kind, e.from, e.to, e.scanId]),
          [
            ['opened', null, 'open', first],
            ['status', 'open', 'fixed', fixing],
            ['status', 'fixed', 'reopened', reopening],
            ['analysis', null, 'exploitable', null],
          ],
        );
        assert.equal(h?.last, undefined);
        const p1 = await s.reader.history(org, f.id, null, 3);
        assert.equal(p1?.items.length, 3);
        assert.notEqual(p1?.last, undefined);
        const p2 = await s.reader.history(org, f.id, p1?.last ?? null, 3);
        assert.deepEqual(
          p2?.items.map((e) => e.kind),
          ['analysis'],
        );
        assert.equal(p2?.last, undefined);
        assert.equal(await s.reader.history(newOrg(), f.id, null, 10), undefined);
      });
    });

    describe('SLAs', () => {
      it('sets dueAt from first seen and the severity, and counts overdue and due-soon at a fixed clock', async () => {
        const org = newOrg();
        await importScan(s.writer, org, [
          scanned(1, { severity: 'critical' }),
          scanned(2, { severity: 'high' }),
          scanned(3, { severity: 'info' }),
        ]);
        const [c, h, i] = await all(s.reader, org);
        const seen = Date.parse(c!.firstSeen);
        assert.equal(c!.dueAt, iso(seen + DEFAULT_SLA.critical! * DAY));
        assert.equal(h!.dueAt, iso(Date.parse(h!.firstSeen) + 30 * DAY));
        assert.equal(i!.dueAt, null, 'info has no SLA');
        const now = iso(seen + 25 * DAY);
        assert.deepEqual(
          (await all(s.reader, org, { overdue: true, now })).map((x) => x.pluginId),
          ['1'],
        );
        assert.deepEqual(
          (await all(s.reader, org, { dueBefore: iso(seen + 31 * DAY) })).map((x) => x.pluginId),
          ['1', '2'],
        );
        const sum = await s.reader.summary(org, 10, now);
        assert.deepEqual(sum.overdue, [{ severity: 'critical', count: 1 }]);
        assert.equal(sum.dueSoon, 1, 'the high one is due within 7 days');
        const due = await all(s.reader, org, { sort: 'due' });
        assert.deepEqual(
          due.map((x) => x.pluginId),
          ['1', '2', '3'],
        );
      });

      it("recomputes dueAt when the org's policy changes; an overdue finding a person accepted is not overdue", async () => {
        const org = newOrg();
        await importScan(s.writer, org, [scanned(1, { severity: 'high' })]);
        let f = await one(org);
        const r = await s.sla.set(
          org,
          { critical: 3, high: 10, medium: 20, low: 40, info: null },
          new Date().toISOString(),
        );
        assert.equal(r.recomputed, 1);
        assert.deepEqual(await s.sla.get(org), {
          critical: 3,
          high: 10,
          medium: 20,
          low: 40,
          info: null,
        });
        f = await one(org);
        assert.equal(f.dueAt, iso(Date.parse(f.firstSeen) + 10 * DAY));
        const late = iso(Date.parse(f.firstSeen) + 11 * DAY);
        assert.equal((await all(s.reader, org, { overdue: true, now: late })).length, 1);
        await s.triage.setAnalysis(
          org,
          f.id,
          change({ state: 'risk_accepted', expiresAt: iso(Date.now() + 60 * DAY) }),
          meta(f.rev),
        );
        assert.equal((await all(s.reader, org, { overdue: true, now: late })).length, 0);
        // New findings of the org follow its policy.
        await importScan(s.writer, org, [
          scanned(1, { severity: 'high' }),
          scanned(2, { severity: 'critical' }),
        ]);
        const g = await one(org, 2);
        assert.equal(g.dueAt, iso(Date.parse(g.firstSeen) + 3 * DAY));
      });

      it('follows a severity change from when the clock started, restarts it on reopening, and moves the ETag only on change', async () => {
        const org = newOrg();
        await importScan(s.writer, org, [scanned(1, { severity: 'high' }), scanned(2)]);
        const f = await one(org);
        await importScan(s.writer, org, [scanned(1, { severity: 'high' }), scanned(2)]);
        const same = await one(org);
        assert.equal(same.rev, f.rev, 'an unchanged re-import keeps the ETag');
        assert.equal(same.dueAt, f.dueAt);
        await importScan(s.writer, org, [scanned(1, { severity: 'critical' }), scanned(2)]);
        const up = await one(org);
        assert.ok(up.rev > f.rev, 'a content change moves the ETag');
        assert.equal(up.dueAt, iso(Date.parse(f.firstSeen) + 7 * DAY), 'first seen + the new days');
        await importScan(s.writer, org, [scanned(2)]);
        const fixed = await one(org);
        assert.equal(fixed.status, 'fixed');
        assert.ok(fixed.rev > up.rev, 'a status change moves the ETag');
        const t0 = Date.now();
        await importScan(s.writer, org, [scanned(1, { severity: 'critical' }), scanned(2)]);
        const t1 = Date.now();
        const again = await one(org);
        assert.equal(again.status, 'reopened');
        const due = Date.parse(again.dueAt ?? '');
        assert.ok(due >= t0 + 7 * DAY - 5 && due <= t1 + 7 * DAY, 'reopened + 7 days');
      });

      it('keeps the DueDate of seed records as their due time', async () => {
        const org = newOrg();
        await s.writer.insertSeedBatch([
          {
            vulnId: 'V-1',
            org,
            asset: 'web-01',
            dueDate: '2026-03-31',
            pluginId: '19506',
            title: 'Nessus Scan Information',
            priority: 'P1',
          },
        ]);
        const [f] = await all(s.reader, org);
        assert.equal(f?.dueAt, '2026-03-31T00:00:00.000Z');
      });
    });

    describe('KEV and EPSS', () => {
      it('joins the feeds to findings at read, filters on them, and orders by priority', async () => {
        const org = newOrg();
        const A = `CVE-2099-${Math.floor(Math.random() * 90000) + 10000}`;
        const B = `CVE-2098-${Math.floor(Math.random() * 90000) + 10000}`;
        const C = `CVE-2097-${Math.floor(Math.random() * 90000) + 10000}`;
        // Findings first, feeds after: the feed import re-ranks what is stored.
        await importScan(s.writer, org, [
          scanned(1, { cves: [C], cvss3Score: 9.8, severity: 'critical' }),
          scanned(2, { cves: [B], cvss3Score: 5.0, severity: 'medium' }),
          scanned(3, { cves: [A], cvss3Score: 3.1, severity: 'low' }),
          scanned(4, { cvss3Score: 10, severity: 'critical' }),
          scanned(5, { cvss3Score: 10, severity: 'high' }),
        ]);
        await s.feeds.importKev([kev(A, '2026-12-24')], source('kev-1'));
        const epss: EpssScore[] = [
          { cve: A, epss: 0.5, percentile: 0.97 },
          { cve: B, epss: 0.9, percentile: 0.99 },
          { cve: C, epss: 0.1, percentile: 0.8 },
        ];
        await s.feeds.importEpss(epss, source('epss-1'));
        const byPrio = await all(s.reader, org, { sort: 'priority' });
        assert.deepEqual(
          byPrio.map((x) => x.pluginId),
          ['3', '2', '1', '4', '5'],
          'KEV, then EPSS, then CVSS, then severity',
        );
        const f3 = byPrio[0] as Finding;
        assert.deepEqual(f3.kev, {
          dateAdded: '2026-11-01',
          dueDate: '2026-12-24',
          ransomware: true,
        });
        assert.equal(f3.epss, 0.5);
        assert.equal(f3.epssPercentile, 0.97);
        assert.equal(byPrio[3]?.kev, null);
        assert.equal(byPrio[3]?.epss, null);
        assert.deepEqual(
          (await all(s.reader, org, { kev: true })).map((x) => x.pluginId),
          ['3'],
        );
        assert.deepEqual(
          (await all(s.reader, org, { kev: false })).map((x) => x.pluginId),
          ['1', '2', '4', '5'],
        );
        assert.deepEqual(
          (await all(s.reader, org, { epssMin: 0.5 })).map((x) => x.pluginId),
          ['2', '3'],
        );
        assert.equal((await s.reader.summary(org, 10)).kev, 1);
        // Findings imported after the feeds are ranked at import.
        await importScan(s.writer, org, [
          scanned(1, { cves: [C], cvss3Score: 9.8, severity: 'critical' }),
          scanned(2, { cves: [B], cvss3Score: 5.0, severity: 'medium' }),
          scanned(3, { cves: [A], cvss3Score: 3.1, severity: 'low' }),
          scanned(4, { cvss3Score: 10, severity: 'critical' }),
          scanned(5, { cvss3Score: 10, severity: 'high' }),
          scanned(6, { cves: [B, A] }),
        ]);
        assert.deepEqual(
          (await all(s.reader, org, { sort: 'priority', active: true })).map((x) => x.pluginId),
          ['6', '3', '2', '1', '4', '5'],
          'a finding with a KEV CVE and the highest EPSS ranks first',
        );
      });
    });
  });
}
