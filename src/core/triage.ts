// Working the findings (issue 16): a person's analysis ("triage") kept apart
// from the scanner-driven status and from the scanner's own verdict, its
// history, SLA due dates and the priority order from the public feeds.
//
// The three things a finding carries, and who changes them:
//   status   open / fixed / reopened        imports only
//   analysis the scanner's verdict          imports only (ScannerAnalysis)
//   triage   a person's analysis            people only (this file)
// What the API shows as `analysis` is the triage when there is one (a user's
// analysis wins over a scanner verdict), else the scanner's.

import type {
  AnalysisJustification,
  AnalysisResponse,
  ScannerAnalysis,
  Severity,
} from './finding.js';
import { rankOf } from './finding.js';

/** The states a person may give (CycloneDX VEX vocabulary plus risk acceptance). */
export const TRIAGE_STATES = [
  'in_triage',
  'exploitable',
  'false_positive',
  'not_affected',
  'risk_accepted',
] as const;
export type TriageState = (typeof TRIAGE_STATES)[number];

/** What a person asks to set (PUT …/analysis, bulk POST …/findings/analysis). */
export interface TriageChange {
  state: TriageState;
  /** Only with not_affected (CycloneDX/OpenVEX justification); null otherwise. */
  justification: AnalysisJustification | null;
  response: AnalysisResponse[];
  /** Free text; sealed at rest like description. '' when none. */
  comment: string;
  /** ISO time; required with risk_accepted, null otherwise. */
  expiresAt: string | null;
}

/** A person's analysis as stored. */
export interface UserAnalysis extends TriageChange {
  /** The principal that set it ("ou:customer-a", "client:ci-bot"). */
  by: string;
  /** ISO time it was set. */
  at: string;
}

/** The clear part kept in the `triage` column (the comment is sealed apart). */
export type StoredTriage = Omit<UserAnalysis, 'comment'>;

/** Who made a history entry's change. */
export type HistoryKind =
  /** The finding was first reported (from firstSeen and the first scan). */
  | 'opened'
  /** An import changed the status (fixed, reopened). */
  | 'status'
  /** A person changed the analysis. */
  | 'analysis'
  /** A risk acceptance reached its expiresAt (recorded by the sweep). */
  | 'expired';

export interface HistoryEntry {
  at: string;
  kind: HistoryKind;
  /** Status (kind status) or analysis state (analysis, expired) before; null when none. */
  from: string | null;
  /** Status or analysis state after. */
  to: string;
  /** The principal (analysis), 'vulnvault' (expired), null (imports). */
  by: string | null;
  /** The import that made the change (opened, status); null otherwise. */
  scanId: string | null;
  /** kind analysis: the analysis set (comment included); null otherwise. */
  analysis: UserAnalysis | null;
}

export interface HistoryPage {
  items: HistoryEntry[];
  /** Opaque position after the last item when more follow. */
  last: number | undefined;
}

/** Default and limits of risk acceptance. */
export const RISK_ACCEPTANCE_MAX_DAYS_DEFAULT = 365;
/** Findings one bulk change may touch. */
export const BULK_TRIAGE_MAX = 10_000;

/**
 * When a finding's analysis stops suppressing it (ISO time), or null when it
 * does not suppress it: the store keeps this as a column so "active" is one
 * indexed comparison with the read's clock (expiry evaluated at read).
 *   user false_positive / not_affected → forever (SUPPRESSED_FOREVER)
 *   user risk_accepted                 → its expiresAt
 *   user in_triage / exploitable       → null (a person's word wins)
 *   no user analysis, scanner verdict false_positive / not_affected / resolved → forever
 */
export const SUPPRESSED_FOREVER = '9999-12-31T23:59:59.999Z';

export function suppressedUntil(
  triage: Pick<UserAnalysis, 'state' | 'expiresAt'> | null,
  scanner: Pick<ScannerAnalysis, 'state'> | null,
): string | null {
  if (triage) {
    if (triage.state === 'false_positive' || triage.state === 'not_affected') {
      return SUPPRESSED_FOREVER;
    }
    if (triage.state === 'risk_accepted') return triage.expiresAt;
    return null;
  }
  const s = scanner?.state;
  return s === 'false_positive' || s === 'not_affected' || s === 'resolved'
    ? SUPPRESSED_FOREVER
    : null;
}

/** Active: status open or reopened, and no suppressing analysis in force at `now`. */
export function isActive(
  f: { status: string; suppressedUntil: string | null },
  now: string,
): boolean {
  return (
    (f.status === 'open' || f.status === 'reopened') &&
    (f.suppressedUntil === null || f.suppressedUntil <= now)
  );
}

// ---- SLAs -------------------------------------------------------------------

/** Days to fix per severity; null = no SLA for that severity. */
export type SlaPolicy = Record<Severity, number | null>;

export const DEFAULT_SLA: SlaPolicy = {
  critical: 7,
  high: 30,
  medium: 90,
  low: 180,
  info: null,
};

const DAY_MS = 86_400_000;

/** dueAt = since (first seen, or reopened) + the days of the severity; null without an SLA. */
export function dueAtOf(policy: SlaPolicy, severity: Severity, since: string): string | null {
  const days = policy[severity];
  if (days === null || days === undefined) return null;
  const t = Date.parse(since);
  return Number.isNaN(t) ? null : new Date(t + days * DAY_MS).toISOString();
}

// ---- Priority ---------------------------------------------------------------

/**
 * One integer that orders findings by KEV, then EPSS, then CVSS, then
 * severity (sort=priority), highest first: stored so the order is an index
 * walk. kev 0/1 · 10^10 + round(epss·10^5) · 10^4 + round(cvss·10) · 10 + severity rank.
 */
export function priorityScore(p: {
  kev: boolean;
  epss: number | null;
  cvss: number | null;
  severity: Severity;
}): number {
  const epss = Math.round(Math.min(Math.max(p.epss ?? 0, 0), 1) * 100_000);
  const cvss = Math.round(Math.min(Math.max(p.cvss ?? 0, 0), 10) * 10);
  return (p.kev ? 1e10 : 0) + epss * 1e4 + cvss * 10 + rankOf(p.severity);
}
