// A finding as a DynamoDB item, and the version of it a reader may see. A
// committed item carries its fields at top level; an import in progress adds
// `pend` (a new finding) or `stg` (the finding's next version). Which one is
// current depends only on the named import's marker (markers.ts).

import type { FindingStatus, ScannerAnalysis, Severity } from '../../core/finding.js';
import type { Finding, FindingFilter } from '../../core/ports.js';
import { suppressedUntil } from '../../core/triage.js';
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
] as const;

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

export function toFinding(it: Item): Finding {
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
    // Triage, SLA and feed fields on DynamoDB: issue 16, not yet stored here.
    triage: null,
    rev: (it.rev as number | undefined) ?? 1,
    suppressedUntil: suppressedUntil(
      null,
      (it.analysis as ScannerAnalysis | null | undefined) ?? null,
    ),
    dueAt: null,
    firstScanId: null,
    kev: null,
    epss: null,
    epssPercentile: null,
  };
}

/** SQLite's lower(): ASCII letters only, so both stores match the same titles. */
function asciiLower(x: string): string {
  return x.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** The exact filter, applied to the current version (the query's prefilter may over-match). */
export function matches(it: Item, f: FindingFilter): boolean {
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
  return true;
}

/** Byte order of the UTF-8 encodings, as SQLite's BINARY collation sorts. */
export function binaryCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
