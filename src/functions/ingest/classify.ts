// The scan-import classification every store shares: what each staged finding
// of an upload is, which findings it leaves behind become fixed, and the
// upload's counts. Pure: a store reports what it holds, this decides.
//
//   stored finding    this upload so far    → outcome
//   none              —                     → new
//   any               counted as X          → merged: CVEs united, the other fields
//                                              from the last report; X re-decided (ScanTally)
//   fixed             —                     → reopened
//   open / reopened   —                     → unchanged if sameContent, else updated
//
// Store adapters may import this module (and nothing else of functions/): it
// is the one place the decision lives, so neither store can drift from it.

import { FIELD_LIMITS, type FindingStatus, type ScannerAnalysis } from '../../core/finding.js';
import type { ScanCounts } from '../../core/ports.js';

/** What an identity counts as in an upload (first sighting; merges may change it). */
export type Counted = 'new' | 'reopened' | 'unchanged' | 'updated';

/** What one staged finding is; 'seen' is told apart by content (seenAs). */
export type Sighting = 'new' | 'merged' | 'reopened' | 'seen';

/**
 * The outcome of a staged finding. `stored`: the status of the stored finding
 * with its identity (null: none). `earlier`: what this upload already counted
 * the identity as (null: first time in this upload).
 */
export function classify(stored: FindingStatus | null, earlier: Counted | null): Sighting {
  if (earlier !== null) return 'merged';
  if (stored === null) return 'new';
  return stored === 'fixed' ? 'reopened' : 'seen';
}

/** A seen finding: unchanged exactly when its content is the stored content. */
export function seenAs(sameContent: boolean): 'unchanged' | 'updated' {
  return sameContent ? 'unchanged' : 'updated';
}

/**
 * Whether a merge re-decides the identity's count: one counted new stays new
 * whatever the merge gives (it did not exist before the upload), one reopened
 * stays reopened; unchanged or updated is decided again by comparing the
 * merged result with the content before the upload.
 */
export function recounts(earlier: Counted): boolean {
  return earlier === 'unchanged' || earlier === 'updated';
}

/** Same identity again in one upload (a CSV row per CVE): the CVEs united, sorted. */
export function unitedCves(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}

/**
 * The running counts of one upload. `count` once per identity at its first
 * sighting; `merge` at every later one, with `sameAsBefore` (asked only when
 * `recounts(earlier)`: `tally.merge(x, recounts(x) && …)`) saying whether the
 * merged content equals the content before the upload.
 */
export class ScanTally {
  private readonly counts: ScanCounts = { new: 0, updated: 0, unchanged: 0, fixed: 0, reopened: 0 };

  count(c: Counted): void {
    this.counts[c]++;
  }

  /** Returns what the identity counts as from now on. */
  merge(earlier: Counted, sameAsBefore: boolean): Counted {
    if (!recounts(earlier)) return earlier;
    const now = seenAs(sameAsBefore);
    this.counts[earlier]--;
    this.counts[now]++;
    return now;
  }

  fixed(n: number): void {
    this.counts.fixed += n;
  }

  result(): ScanCounts {
    return { ...this.counts };
  }
}

/**
 * Whether commit marks a finding this upload did not report as fixed: the
 * upload covers its (scanner, asset), it is open or reopened, this upload did
 * not touch it, and it is a scanner's finding, not a seed record. (The SQLite
 * store applies the same rule as one set-based UPDATE.)
 */
export function becomesFixed(f: {
  status: string;
  covered: boolean;
  touched: boolean;
  seed: boolean;
}): boolean {
  return f.covered && !f.touched && !f.seed && (f.status === 'open' || f.status === 'reopened');
}

// ── The one "unchanged" rule ────────────────────────────────────────────────
//
// A finding's content is everything an upload may change without changing its
// identity: title, severity, severityRaw, CVSS v3 and v2 score and vector, the
// CVE list as a sorted list (the order a scanner lists CVEs in is no change),
// service, location, the scanner's analysis (its clear part as analysisJson,
// its detail sealed), description, solution, evidence. Two findings have the same content
// when every one of these is equal. Stores hold the content in different
// forms; each comparison below is that rule on one form.

/** The content fields every store keeps in clear, under these names. */
export interface ClearContent {
  title: string;
  severity: string;
  severityRaw: string;
  cvss3Score: number | null;
  cvss3Vector: string | null;
  cvss2Score: number | null;
  cvss2Vector: string | null;
  service: string;
  location: string;
}

export interface FindingContent extends ClearContent {
  cves: readonly string[];
  description: string;
  solution: string;
  evidence: string;
  analysis: ScannerAnalysis | null;
}

/**
 * The clear part of a scanner's analysis (state, justification, responses)
 * as canonical JSON, or null; the detail is free text and sealed.
 */
export function analysisJson(a: ScannerAnalysis | null): string | null {
  if (a === null) return null;
  return JSON.stringify({ state: a.state, justification: a.justification, response: a.response });
}

export function sameClearContent(a: ClearContent, b: ClearContent): boolean {
  return (
    a.title === b.title &&
    a.severity === b.severity &&
    a.severityRaw === b.severityRaw &&
    a.cvss3Score === b.cvss3Score &&
    a.cvss3Vector === b.cvss3Vector &&
    a.cvss2Score === b.cvss2Score &&
    a.cvss2Vector === b.cvss2Vector &&
    a.service === b.service &&
    a.location === b.location
  );
}

/** CVE lists compared as sorted lists; copies are made only when the orders differ. */
export function sameCves(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  if (i === a.length) return true;
  const x = [...a].sort();
  const y = [...b].sort();
  return x.every((c, j) => c === y[j]);
}

/** The rule on two findings in full (the DynamoDB store, tests). */
export function sameContent(a: FindingContent, b: FindingContent): boolean {
  return (
    sameClearContent(a, b) &&
    sameCves(a.cves, b.cves) &&
    a.description === b.description &&
    a.solution === b.solution &&
    a.evidence === b.evidence &&
    analysisJson(a.analysis) === analysisJson(b.analysis) &&
    (a.analysis?.detail ?? '') === (b.analysis?.detail ?? '')
  );
}

/** A stored finding whose CVE list is JSON text (the SQLite store). */
export interface PackedStoredContent extends ClearContent {
  cves: string;
  /** analysisJson of the stored analysis */
  analysis: string | null;
}

/**
 * The rule for a store that keeps the CVE list as JSON text and description,
 * solution and evidence packed: each as a length-prefixed string, so the
 * packed bytes are equal exactly when the three fields are. `openStored`
 * unpacks the stored finding's sealed fields (undefined: none to compare,
 * which counts as different); it is called only when everything else is
 * equal, as opening costs most. Allocates nothing on the way to "unchanged".
 */
export function samePackedContent<S extends PackedStoredContent>(
  stored: S,
  openStored: (stored: S) => Uint8Array | undefined,
  incoming: ClearContent,
  incomingAnalysisJson: string | null,
  incomingCvesJson: string,
  incomingPacked: Uint8Array,
): boolean {
  if (!sameClearContent(stored, incoming)) return false;
  if (stored.analysis !== incomingAnalysisJson) return false;
  if (
    stored.cves !== incomingCvesJson &&
    !sameCves(JSON.parse(stored.cves) as string[], JSON.parse(incomingCvesJson) as string[])
  ) {
    return false;
  }
  const packed = openStored(stored);
  return packed !== undefined && Buffer.compare(packed, incomingPacked) === 0;
}

/**
 * The clear content and CVEs as one canonical text (CVEs sorted), for a store
 * that remembers a finding's content before an upload by digest: a digest of
 * this text followed by the packed sealed fields is equal for two findings
 * exactly when samePackedContent holds (JSON ends where it closes, and the
 * packed fields are length-prefixed, so no two inputs run together).
 */
export function canonicalContent(
  c: ClearContent,
  analysis: string | null,
  cves: readonly string[],
): string {
  return JSON.stringify([
    c.location,
    analysis,
    c.title,
    c.severity,
    c.severityRaw,
    c.cvss3Score,
    c.cvss3Vector,
    c.cvss2Score,
    c.cvss2Vector,
    c.service,
    [...cves].sort(),
  ]);
}

// ── Merged duplicates keep every report's output ────────────────────────────
//
// One upload may report an identity more than once (Nessus writes a
// ReportItem per plugin run; a CSV a row per CVE). A merge keeps each
// distinct evidence text, in the order reported, separated by MERGE_SEPARATOR,
// up to FIELD_LIMITS.text characters in all; what does not fit is cut and the
// cut is said at the end. The other fields come from the last report.

export const MERGE_SEPARATOR = '\n\n--- reported again in the same scan ---\n\n';
const CUT_NOTE = '\n\n[more output of this finding was reported; cut at 65536 characters]';

/** The evidence of a merged finding: `earlier` (already merged) and `next`. */
export function mergedEvidence(earlier: string, next: string): string {
  if (next === '' || earlier === next) return earlier;
  if (earlier === '') return next;
  if (earlier.endsWith(CUT_NOTE)) return earlier;
  const parts = earlier.split(MERGE_SEPARATOR);
  if (parts.includes(next)) return earlier;
  const all = earlier + MERGE_SEPARATOR + next;
  if (all.length <= FIELD_LIMITS.text) return all;
  return all.slice(0, FIELD_LIMITS.text - CUT_NOTE.length) + CUT_NOTE;
}
