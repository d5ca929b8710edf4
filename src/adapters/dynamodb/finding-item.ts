// A finding as a DynamoDB item, and the version of it a reader may see. A
// committed item carries its fields at top level; an import in progress adds
// `pend` (a new finding) or `stg` (the finding's next version). Which one is
// current depends only on the named import's marker (markers.ts).
//
// A person's analysis lives in a triage item of its own ("F#<seq>#T"), which
// imports never write: an import rewrites the whole finding item, so a
// field of it would be lost to an import running meanwhile. The triage item
// is staged the same way by a bulk change (`stg` = {imp, triage, trev}). A
// reader sees a View: the finding's current version, its current triage
// (`triage`, `trev`) and the feeds' answers for its CVEs.

import type { CvePriority } from '../../core/feeds.js';
import type { FindingStatus, ScannerAnalysis, Severity } from '../../core/finding.js';
import type { Finding, FindingFilter } from '../../core/ports.js';
import { isActive, priorityScore, suppressedUntil, type UserAnalysis } from '../../core/triage.js';
import type { FindingContent } from '../../functions/ingest/classify.js';
import type { Item } from './client.js';

/** Fields an import may change; they are what `stg` holds. */
export const MUTABLE_FIELDS = [
  'title',
  'severity',
  'severityRaw',
  'cvss3Score',
  'cvss3Vector',
  'cvss2Score',
  'cvss2Vector',
  'cves',
  'description',
  'solution',
  'evidence',
  'service',
  'location',
  'analysis',
  'status',
  'fixedAt',
  'lastSeen',
  'lastScanId',
  'rev',
  'slaSince',
  'dueAt',
] as const;

/** Kind attribute of triage items (the prefilter lets them through by it). */
export const TRIAGE_KIND = 'T';

export const isTriageItem = (it: Item): boolean => it.kind === TRIAGE_KIND;

/** A triage item's current analysis and revision (no item: none, 0). */
export interface CurrentTriage {
  triage: UserAnalysis | null;
  trev: number;
}

/**
 * The current version of a triage item: its staged one once that bulk
 * change's marker says committed, else its top level.
 */
export function currentTriage(
  it: Item | undefined,
  committed: (id: string) => boolean,
): CurrentTriage {
  if (!it) return { triage: null, trev: 0 };
  const stg = it.stg as Item | undefined;
  const v = stg && typeof stg.imp === 'string' && committed(stg.imp) ? stg : it;
  return {
    triage: (v.triage as UserAnalysis | null | undefined) ?? null,
    trev: (v.trev as number | undefined) ?? 0,
  };
}

/** A finding as readers see it: current version, current triage, feeds of its CVEs. */
export type View = Item & CurrentTriage;

export const viewOf = (cur: Item, t: CurrentTriage): View => ({ ...cur, ...t });

/** The finding's SLA, ETag and suppression as the reader computes them. */
export const revOf = (v: View): number => ((v.rev as number | undefined) ?? 1) + v.trev;
export const suppressedUntilOf = (v: View): string | null =>
  suppressedUntil(v.triage, (v.analysis as ScannerAnalysis | null | undefined) ?? null);

/** What the feeds say about a finding: as finding-queries.ts joins them on SQLite. */
export interface FeedView {
  kev: Finding['kev'];
  epss: number | null;
  epssPercentile: number | null;
}

export function feedsOf(v: Item, feeds: ReadonlyMap<string, CvePriority>): FeedView {
  let kev: FeedView['kev'] = null;
  let kevCve = '';
  let epss: number | null = null;
  let pct: number | null = null;
  for (const c of (v.cves as string[] | undefined) ?? []) {
    const p = feeds.get(c);
    if (!p) continue;
    // The KEV entry with the earliest due date (then the lowest CVE).
    if (
      p.kev &&
      (kev === null ||
        binaryCompare(p.kev.dueDate, kev.dueDate) < 0 ||
        (p.kev.dueDate === kev.dueDate && binaryCompare(c, kevCve) < 0))
    ) {
      kev = { ...p.kev };
      kevCve = c;
    }
    if (p.epss !== null && (epss === null || p.epss > epss)) epss = p.epss;
    if (p.epssPercentile !== null && (pct === null || p.epssPercentile > pct)) {
      pct = p.epssPercentile;
    }
  }
  return { kev, epss, epssPercentile: pct };
}

/** The priority score (triage.priorityScore) of a view, from the feeds of its CVEs. */
export function priorityOf(v: Item, feeds: ReadonlyMap<string, CvePriority>): number {
  const f = feedsOf(v, feeds);
  return priorityScore({
    kev: f.kev !== null,
    epss: f.epss,
    cvss: n(v.cvss3Score) ?? n(v.cvss2Score),
    severity: v.severity as Severity,
  });
}

/** The effective analysis state: the person's, else the scanner's, else 'none'. */
export function analysisStateOf(v: View): string {
  return v.triage?.state ?? (v.analysis as { state: string } | null | undefined)?.state ?? 'none';
}

/** A due time as the sort key of sort=due: epoch ms, findings without one last. */
const NO_DUE = '9999-12-31T23:59:59.999Z';
export const dueKey = (dueAt: unknown): number =>
  Date.parse(typeof dueAt === 'string' ? dueAt : NO_DUE);

/** The current version of a finding item, or undefined when it is not committed. */
export function currentVersion(it: Item, committed: (id: string) => boolean): Item | undefined {
  if (typeof it.pend === 'string' && !committed(it.pend)) return undefined;
  const stg = it.stg as Item | undefined;
  if (stg && typeof stg.imp === 'string' && committed(stg.imp)) {
    const merged: Item = { ...it };
    for (const f of MUTABLE_FIELDS) if (f in stg) merged[f] = stg[f] as unknown;
    return merged;
  }
  return it;
}

/**
 * The committed top-level fields of a current version (no staging
 * attributes). `contentHash`, which imports wrote before unchanged findings
 * were found by comparing content, is dropped too: nothing reads it.
 */
export function settled(it: Item): Item {
  const out: Item = { ...it };
  delete out.pend;
  delete out.stg;
  delete out.contentHash;
  return out;
}

const n = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const s = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** What classify compares to tell an unchanged finding from an updated one. */
export function contentOf(it: Item): FindingContent {
  return {
    title: it.title as string,
    severity: it.severity as string,
    severityRaw: it.severityRaw as string,
    cvss3Score: n(it.cvss3Score),
    cvss3Vector: s(it.cvss3Vector),
    cvss2Score: n(it.cvss2Score),
    cvss2Vector: s(it.cvss2Vector),
    cves: (it.cves as string[] | undefined) ?? [],
    description: it.description as string,
    solution: it.solution as string,
    evidence: it.evidence as string,
    service: it.service as string,
    location: (it.location as string | undefined) ?? '',
    analysis: (it.analysis as ScannerAnalysis | null | undefined) ?? null,
  };
}

export function toFinding(it: View, feeds: ReadonlyMap<string, CvePriority>): Finding {
  return {
    seq: it.seq as number,
    id: it.id as string,
    org: it.org as string,
    asset: it.asset as string,
    scanner: it.scanner as string,
    pluginId: it.pluginId as string,
    port: it.port as number,
    protocol: it.protocol as string,
    title: it.title as string,
    severity: it.severity as Severity,
    severityRaw: it.severityRaw as string,
    cvss3Score: n(it.cvss3Score),
    cvss3Vector: s(it.cvss3Vector),
    cvss2Score: n(it.cvss2Score),
    cvss2Vector: s(it.cvss2Vector),
    cves: [...((it.cves as string[] | undefined) ?? [])],
    description: it.description as string,
    solution: it.solution as string,
    evidence: it.evidence as string,
    service: it.service as string,
    category: (it.category as string | undefined) ?? '',
    fingerprint: (it.fingerprint as string | undefined) ?? '',
    location: (it.location as string | undefined) ?? '',
    analysis: (it.analysis as ScannerAnalysis | null | undefined) ?? null,
    status: it.status as FindingStatus,
    firstSeen: it.firstSeen as string,
    lastSeen: it.lastSeen as string,
    fixedAt: s(it.fixedAt),
    dueDate: s(it.dueDate),
    priority: s(it.priority),
    triage: it.triage === null ? null : { ...it.triage, response: [...it.triage.response] },
    rev: revOf(it),
    suppressedUntil: suppressedUntilOf(it),
    dueAt: s(it.dueAt),
    firstScanId: s(it.firstScanId),
    ...feedsOf(it, feeds),
  };
}

/** SQLite's lower(): ASCII letters only, so both stores match the same titles. */
function asciiLower(x: string): string {
  return x.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/**
 * The exact filter, applied to the view (the query's prefilter may
 * over-match), at `now` (the filter's, else the caller's clock); `feeds`
 * holds the feeds' answers for the view's CVEs (filters kev, epssMin).
 */
export function matches(
  it: View,
  f: FindingFilter,
  now: string,
  feeds: ReadonlyMap<string, CvePriority>,
): boolean {
  if (f.severity && f.severity.length > 0 && !f.severity.includes(it.severity as Severity)) {
    return false;
  }
  if (f.status !== undefined && it.status !== f.status) return false;
  if (f.cve !== undefined && !((it.cves as string[] | undefined) ?? []).includes(f.cve)) {
    return false;
  }
  if (f.asset !== undefined && it.asset !== f.asset) return false;
  if (f.since !== undefined && !((it.lastSeen as string) >= f.since)) return false;
  if (f.q !== undefined && !asciiLower(it.title as string).includes(asciiLower(f.q))) return false;
  if (f.active !== undefined || f.overdue !== undefined) {
    const active = isActive(
      { status: it.status as string, suppressedUntil: suppressedUntilOf(it) },
      now,
    );
    if (f.active !== undefined && f.active !== active) return false;
    if (f.overdue !== undefined) {
      const due = s(it.dueAt);
      if (f.overdue !== (active && due !== null && due < now)) return false;
    }
  }
  if (f.analysis && f.analysis.length > 0) {
    if (!(f.analysis as readonly string[]).includes(analysisStateOf(it))) return false;
  }
  if (f.dueBefore !== undefined) {
    const due = s(it.dueAt);
    if (due === null || !(due < f.dueBefore)) return false;
  }
  if (f.kev !== undefined || f.epssMin !== undefined) {
    const cves = (it.cves as string[] | undefined) ?? [];
    if (f.kev !== undefined && f.kev !== cves.some((c) => (feeds.get(c)?.kev ?? null) !== null)) {
      return false;
    }
    const min = f.epssMin;
    if (min !== undefined && !cves.some((c) => (feeds.get(c)?.epss ?? -1) >= min)) return false;
  }
  return true;
}

/** Whether a filter needs the feeds of every candidate (not only of a page's findings). */
export const needsFeeds = (f: FindingFilter): boolean =>
  f.kev !== undefined || f.epssMin !== undefined || f.sort === 'priority';

/** Byte order of the UTF-8 encodings, as SQLite's BINARY collation sorts. */
export function binaryCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
