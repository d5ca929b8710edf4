// An in-memory FindingsReader + FindingsWriter for unit tests. Its scan import
// decides through functions/ingest/classify.ts only, like the SQLite and
// DynamoDB stores, and test/contract/memory.test.ts holds it to their contract:
// a decision tested here is the decision both real stores make.

import { VaultError } from '../../src/core/errors.js';
import {
  isInactiveAnalysis,
  type CoveredAsset,
  type ScannedFinding,
} from '../../src/core/finding.js';
import type {
  Finding,
  FindingFilter,
  FindingsReader,
  FindingsSummary,
  FindingsWriter,
  NewSeedFinding,
  ScanCounts,
  ScanImport,
  ScanMeta,
  StoredSeedFinding,
} from '../../src/core/ports.js';
import {
  becomesFixed,
  classify,
  mergedEvidence,
  recounts,
  sameContent,
  ScanTally,
  seenAs,
  unitedCves,
  type Counted,
  type FindingContent,
} from '../../src/functions/ingest/classify.js';

/** A stored finding with what the store keeps beside it. */
export interface MemoryRow extends Finding {
  vulnId: string | null;
  lastScanId: string | null;
}

export interface ScanRecord extends ScanCounts {
  scanId: string;
  org: string;
  format: string;
  principal: string;
  received: number;
}

export interface MemoryStore {
  reader: FindingsReader;
  writer: FindingsWriter;
  /** Committed scan records, in commit order. */
  scans: ScanRecord[];
  /** Every committed row of an org, in seq order (copies). */
  rows(org: string): MemoryRow[];
}

/** Issue 16 fields at their defaults: the memory store does not triage. */
const UNTRIAGED = {
  triage: null,
  rev: 1,
  suppressedUntil: null,
  dueAt: null,
  firstScanId: null,
  kev: null,
  epss: null,
  epssPercentile: null,
} as const;

const identityOf = (org: string, f: ScannedFinding) =>
  JSON.stringify([
    org,
    f.scanner,
    f.asset,
    f.category,
    f.pluginId,
    f.port,
    f.protocol,
    f.fingerprint,
  ]);
const coveredKey = (a: { scanner: string; asset: string; category: string }) =>
  JSON.stringify([a.scanner, a.asset, a.category]);

/** The fields an upload sets on a finding. */
function contentFields(f: ScannedFinding, cves: string[]) {
  return {
    title: f.title,
    severity: f.severity,
    severityRaw: f.severityRaw,
    cvss3Score: f.cvss3Score,
    cvss3Vector: f.cvss3Vector,
    cvss2Score: f.cvss2Score,
    cvss2Vector: f.cvss2Vector,
    cves,
    description: f.description,
    solution: f.solution,
    evidence: f.evidence,
    service: f.service,
    location: f.location,
    analysis: f.analysis,
  };
}

const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function matches(r: MemoryRow, f: FindingFilter): boolean {
  if (f.severity && f.severity.length > 0 && !f.severity.includes(r.severity)) return false;
  if (f.status !== undefined && r.status !== f.status) return false;
  if (f.cve !== undefined && !r.cves.includes(f.cve)) return false;
  if (f.asset !== undefined && r.asset !== f.asset) return false;
  if (f.since !== undefined && !(r.lastSeen >= f.since)) return false;
  if (f.q !== undefined && !asciiLower(r.title).includes(asciiLower(f.q))) return false;
  return true;
}

function toFinding(r: MemoryRow, fields: 'list' | 'full'): Finding {
  const { vulnId: _v, lastScanId: _l, ...f } = structuredClone(r);
  return fields === 'full' ? f : { ...f, description: '', solution: '', evidence: '' };
}

/** What an upload remembers of an identity it staged, for its length only. */
interface Met {
  seq: number;
  counted: Counted;
  /** Its content before the upload (null: it did not exist). */
  before: FindingContent | null;
}

export function createMemoryStore(): MemoryStore {
  const rows = new Map<number, MemoryRow>();
  const identities = new Map<string, number>();
  const scans: ScanRecord[] = [];
  let lastSeq = 0;
  let ids = 0;
  const newId = () => `00000000-0000-7000-8000-${(++ids).toString(16).padStart(12, '0')}`;
  const orgRows = (org: string) =>
    [...rows.values()].filter((r) => r.org === org).sort((a, b) => a.seq - b.seq);

  const reader: FindingsReader = {
    listSeedRecords(org, afterSeq, limit) {
      const page = orgRows(org).filter((r) => r.seq > afterSeq && r.vulnId !== null);
      const items: StoredSeedFinding[] = page.slice(0, limit).map((r) => ({
        seq: r.seq,
        id: r.id,
        vulnId: r.vulnId as string,
        org: r.org,
        asset: r.asset,
        dueDate: r.dueDate ?? '',
        pluginId: r.pluginId,
        title: r.title,
        priority: r.priority ?? '',
      }));
      return Promise.resolve({
        items,
        lastSeq: page.length > limit ? items.at(-1)?.seq : undefined,
      });
    },
    queryFindings(org, filter, after, limit, fields = 'full') {
      // The memory store orders by seq only (triage, SLA and priority are
      // held to the contract by the SQLite and DynamoDB stores).
      const afterSeq = typeof after === 'number' ? after : after.seq;
      const page = orgRows(org).filter((r) => r.seq > afterSeq && matches(r, filter));
      const items = page.slice(0, limit).map((r) => toFinding(r, fields));
      return Promise.resolve({
        items,
        lastSeq: page.length > limit ? items.at(-1)?.seq : undefined,
      });
    },
    getFinding(org, id) {
      const r = orgRows(org).find((x) => x.id === id);
      return Promise.resolve(r && toFinding(r, 'full'));
    },
    summary(org, top) {
      const every = orgRows(org);
      const all = every.filter((r) => !isInactiveAnalysis(r.analysis));
      const active = all.filter((r) => r.status === 'open' || r.status === 'reopened');
      const tally = <K extends string>(keys: K[]) => {
        const m = new Map<K, number>();
        for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
        return m;
      };
      const ranked = (m: Map<string, number>) =>
        [...m].sort((a, b) => b[1] - a[1] || byText(a[0], b[0])).slice(0, top);
      const bySeverityStatus = [...tally(all.map((r) => `${r.severity}\n${r.status}`))]
        .sort((a, b) => byText(a[0], b[0]))
        .map(([k, count]) => {
          const [severity, status] = k.split('\n') as [Finding['severity'], Finding['status']];
          return { severity, status, count };
        });
      const summary: FindingsSummary = {
        bySeverityStatus,
        topAssets: ranked(tally(active.map((r) => r.asset))).map(([asset, open]) => ({
          asset,
          open,
        })),
        topCves: ranked(tally(active.flatMap((r) => [...new Set(r.cves)]))).map(([cve, open]) => ({
          cve,
          open,
        })),
        inactive: every.length - all.length,
        active: [],
        overdue: [],
        dueSoon: 0,
        kev: 0,
        meanTimeToFix: [],
      };
      return Promise.resolve(summary);
    },
    history() {
      return Promise.reject(new Error('the memory store keeps no history'));
    },
  };

  function insertSeedBatch(records: readonly NewSeedFinding[]) {
    const taken = new Set(
      [...rows.values()].filter((r) => r.vulnId !== null).map((r) => `${r.org}\n${r.vulnId}`),
    );
    records.forEach((r, index) => {
      const k = `${r.org}\n${r.vulnId}`;
      if (taken.has(k)) {
        throw new VaultError(
          'vuln_exists',
          `record ${index}: a finding with this VulnID is already stored for its org; nothing was stored`,
        );
      }
      taken.add(k);
    });
    const now = new Date().toISOString();
    for (const r of records) {
      const seq = ++lastSeq;
      rows.set(seq, {
        seq,
        id: newId(),
        org: r.org,
        vulnId: r.vulnId,
        asset: r.asset,
        scanner: 'seed',
        category: '',
        pluginId: r.pluginId,
        port: 0,
        protocol: '',
        fingerprint: '',
        location: '',
        analysis: null,
        title: r.title,
        severity: 'info',
        severityRaw: '',
        cvss3Score: null,
        cvss3Vector: null,
        cvss2Score: null,
        cvss2Vector: null,
        cves: [],
        description: '',
        solution: '',
        evidence: '',
        service: '',
        status: 'open',
        firstSeen: now,
        lastSeen: now,
        fixedAt: null,
        dueDate: r.dueDate,
        priority: r.priority,
        lastScanId: null,
        ...UNTRIAGED,
      });
    }
    return { stored: records.length };
  }

  function beginScanImport(meta: ScanMeta): ScanImport {
    const now = new Date().toISOString();
    const tally = new ScanTally();
    // The upload's versions of the rows it touched: invisible until commit.
    const work = new Map<number, MemoryRow>();
    const met = new Map<string, Met>();
    const covered = new Set<string>();
    let open = true;

    const stageOne = (f: ScannedFinding) => {
      const identity = identityOf(meta.org, f);
      const mine = met.get(identity);
      const committedSeq = identities.get(identity);
      const stored = committedSeq === undefined ? undefined : rows.get(committedSeq);
      const sighting = classify(stored?.status ?? null, mine?.counted ?? null);
      if (sighting === 'merged') {
        const m = mine as Met; // classify merges only what this upload met
        const cur = work.get(m.seq) as MemoryRow;
        const next = {
          ...cur,
          ...contentFields(
            { ...f, evidence: mergedEvidence(cur.evidence, f.evidence) },
            unitedCves(cur.cves, f.cves),
          ),
          lastSeen: now,
          lastScanId: meta.scanId,
        };
        m.counted = tally.merge(
          m.counted,
          recounts(m.counted) && sameContent(m.before as FindingContent, next),
        );
        work.set(m.seq, next);
        return;
      }
      if (sighting === 'new' || !stored) {
        const seq = ++lastSeq;
        work.set(seq, {
          seq,
          id: newId(),
          org: meta.org,
          vulnId: null,
          asset: f.asset,
          scanner: f.scanner,
          category: f.category,
          pluginId: f.pluginId,
          port: f.port,
          protocol: f.protocol,
          fingerprint: f.fingerprint,
          ...contentFields(f, [...f.cves]),
          status: 'open',
          firstSeen: now,
          lastSeen: now,
          fixedAt: null,
          dueDate: null,
          priority: null,
          lastScanId: meta.scanId,
          ...UNTRIAGED,
        });
        met.set(identity, { seq, counted: 'new', before: null });
        tally.count('new');
        return;
      }
      const counted = sighting === 'reopened' ? 'reopened' : seenAs(sameContent(stored, f));
      tally.count(counted);
      work.set(stored.seq, {
        ...stored,
        ...contentFields(f, [...f.cves]),
        status: counted === 'reopened' ? 'reopened' : stored.status,
        fixedAt: null,
        lastSeen: now,
        lastScanId: meta.scanId,
      });
      met.set(identity, { seq: stored.seq, counted, before: structuredClone(stored) });
    };

    const finished = () => Promise.reject(new Error('scan import already finished'));
    return {
      stage(findings: readonly ScannedFinding[], assets: readonly CoveredAsset[]) {
        if (!open) return finished();
        for (const a of assets) covered.add(coveredKey(a));
        for (const f of findings) stageOne(structuredClone(f));
        return Promise.resolve();
      },
      commit(received: number) {
        if (!open) return finished();
        open = false;
        const fixedAt = new Date().toISOString();
        let fixed = 0;
        for (const r of orgRows(meta.org)) {
          const fixes = becomesFixed({
            status: r.status,
            covered: covered.has(coveredKey(r)),
            touched: work.has(r.seq),
            seed: r.vulnId !== null,
          });
          if (!fixes) continue;
          work.set(r.seq, { ...r, status: 'fixed', fixedAt, lastScanId: meta.scanId });
          fixed++;
        }
        tally.fixed(fixed);
        for (const [seq, r] of work) {
          if (!rows.has(seq)) identities.set(identityOf(r.org, r), seq);
          rows.set(seq, r);
        }
        const counts = tally.result();
        scans.push({
          scanId: meta.scanId,
          org: meta.org,
          format: meta.format,
          principal: meta.principal,
          received,
          ...counts,
        });
        return Promise.resolve(counts);
      },
      abort() {
        open = false;
        return Promise.resolve();
      },
    };
  }

  return {
    reader,
    writer: {
      insertSeedBatch: async (records) => insertSeedBatch(records),
      beginScanImport: (meta) => Promise.resolve(beginScanImport(meta)),
    },
    scans,
    rows: (org) => orgRows(org).map((r) => structuredClone(r)),
  };
}
