// Ports: the narrow interfaces functions depend on. Adapters (SQLite on one
// machine, DynamoDB on AWS) implement them; the read path is only ever given
// a reader.

import type { CoveredAsset, FindingStatus, ScannedFinding, Severity } from './finding.js';
import type { Action, PrincipalRef, PrincipalType } from './principal.js';
import type { HistoryPage, SlaPolicy, TriageChange, TriageState, UserAnalysis } from './triage.js';

/** A seed record as stored: wire fields plus the store's ordering key. */
export interface StoredSeedFinding {
  seq: number;
  id: string;
  vulnId: string;
  org: string;
  asset: string;
  dueDate: string; // YYYY-MM-DD
  pluginId: string;
  title: string;
  priority: string;
}

export interface NewSeedFinding {
  vulnId: string;
  org: string;
  asset: string;
  dueDate: string; // YYYY-MM-DD
  pluginId: string;
  title: string;
  priority: string;
}

export interface FindingsPage<T> {
  items: T[];
  /** The ordering key of the last item when more follow, else undefined. */
  lastSeq: number | undefined;
  /** With a sort other than seq: the sort key of that last item (the cursor keeps both). */
  lastKey?: number | string | null;
}

/**
 * Where a page starts: after this seq (sort seq), or after this (sort key,
 * seq) pair (sort priority: key = priority score, descending; sort due: key =
 * dueAt, ascending, findings without one last).
 */
export type FindingsAfter = number | { key: number | string | null; seq: number };

/** A stored finding (DESIGN.md §5). Seed records have defaults for scan fields. */
export interface Finding extends ScannedFinding {
  seq: number;
  id: string;
  org: string;
  status: FindingStatus;
  firstSeen: string;
  lastSeen: string;
  fixedAt: string | null;
  dueDate: string | null;
  priority: string | null;
  /** A person's analysis, or null. Imports never change it (triage.ts). */
  triage: UserAnalysis | null;
  /** Bumped by every analysis, status or content change (not by lastSeen alone): the ETag. */
  rev: number;
  /** When its analysis stops suppressing it (triage.suppressedUntil), or null. */
  suppressedUntil: string | null;
  /** SLA due time (ISO): seed records' DueDate, else first seen or reopened + the SLA days. */
  dueAt: string | null;
  /** The import that first reported it; null for seed records and rows from before. */
  firstScanId: string | null;
  /** Joined at read from the feeds: the KEV entry of any of its CVEs (earliest due date). */
  kev: { dateAdded: string; dueDate: string; ransomware: boolean } | null;
  /** Highest EPSS score and percentile of its CVEs; null when none is scored. */
  epss: number | null;
  epssPercentile: number | null;
}

/** Query filters; every field optional, all given ones must hold. */
export interface FindingFilter {
  severity?: readonly Severity[] | undefined;
  status?: FindingStatus | undefined;
  cve?: string | undefined;
  asset?: string | undefined;
  /** ISO time: lastSeen >= since */
  since?: string | undefined;
  /** case-insensitive substring of the title */
  q?: string | undefined;
  /** true: active at `now` (status open/reopened, no suppressing analysis in force); false: not. */
  active?: boolean | undefined;
  /** Effective analysis state (the person's, else the scanner's); 'none' = no analysis. */
  analysis?: readonly (TriageState | 'resolved' | 'none')[] | undefined;
  /** true: active and dueAt < now. */
  overdue?: boolean | undefined;
  /** ISO time: dueAt < dueBefore. */
  dueBefore?: string | undefined;
  /** true: one of its CVEs is in the KEV catalog; false: none is. */
  kev?: boolean | undefined;
  /** EPSS score (0–1) of one of its CVEs at least this. */
  epssMin?: number | undefined;
  /** Order: seq (default, oldest first), priority (highest first), due (soonest first). */
  sort?: 'seq' | 'priority' | 'due' | undefined;
  /** ISO time the read evaluates expiry and overdue against (the caller's clock). */
  now?: string | undefined;
}

export interface FindingsSummary {
  bySeverityStatus: { severity: Severity; status: FindingStatus; count: number }[];
  topAssets: { asset: string; open: number }[];
  topCves: { cve: string; open: number }[];
  /**
   * Findings a verdict took out of the counts above (analysis false_positive,
   * not_affected or resolved): counted here only.
   */
  inactive: number;
  /** Active findings (status open/reopened, not suppressed at `now`) by severity. */
  active: { severity: Severity; count: number }[];
  /** Active findings past their dueAt, by severity. */
  overdue: { severity: Severity; count: number }[];
  /** Active findings due within the next 7 days (not yet overdue). */
  dueSoon: number;
  /** Active findings with a CVE in the KEV catalog. */
  kev: number;
  /** Mean days from first seen to fixed, of findings fixed in the last 90 days, by severity. */
  meanTimeToFix: { severity: Severity; days: number; fixed: number }[];
}

export interface FindingsReader {
  /**
   * The seed records (stored through POST /vuln, with a VulnID) of one org
   * with seq > afterSeq, in seq order, at most `limit`. Scan findings are not
   * seed records: they do not fit the seed's flat shape.
   */
  listSeedRecords(
    org: string,
    afterSeq: number,
    limit: number,
  ): Promise<FindingsPage<StoredSeedFinding>>;
  /**
   * Every finding (seed records and scan findings) with seq > afterSeq, in seq order, with filters. fields 'list' (for list pages) may leave
   * description, solution and evidence empty: a store that seals them then
   * need not decrypt each finding of a page.
   */
  queryFindings(
    org: string,
    filter: FindingFilter,
    after: FindingsAfter,
    limit: number,
    fields?: 'list' | 'full',
  ): Promise<FindingsPage<Finding>>;
  getFinding(org: string, id: string): Promise<Finding | undefined>;
  /**
   * Counts by severity × status; assets and CVEs with most open findings;
   * active, overdue and due-soon counts at `now`; mean time to fix.
   */
  summary(org: string, top: number, now?: string): Promise<FindingsSummary>;
  /**
   * A finding's history, oldest first: 'opened', then every status change an
   * import made and every analysis change, after position `after` (null:
   * from the start, 'opened' included; else HistoryPage.last of the page before). undefined when the org has no finding with this id.
   */
  history(
    org: string,
    id: string,
    after: number | null,
    limit: number,
  ): Promise<HistoryPage | undefined>;
}

/**
 * SLA policies per org (days per severity). An org without its own uses the
 * default the caller gives (config triage.sla). Setting one recomputes the
 * dueAt of the org's scan findings (seed records keep their DueDate).
 */
export interface SlaPolicies {
  get(org: string): Promise<SlaPolicy | undefined>;
  set(org: string, policy: SlaPolicy, at: string): Promise<{ recomputed: number }>;
}

/** Who changes an analysis and when (the store records it in the history). */
export interface TriageMeta {
  by: string;
  at: string;
}

/**
 * People's analysis of findings (findings:triage). Every change also writes a
 * history entry and bumps the finding's rev. Nothing here touches status or
 * the scanner's verdict.
 */
export interface FindingsTriage {
  /**
   * Sets one finding's analysis when its rev is still `ifRev`. Throws
   * VaultError not_found (no such finding in the org) or precondition_failed
   * (rev moved on): nothing changes then. Returns the new rev and the state before.
   */
  setAnalysis(
    org: string,
    id: string,
    change: TriageChange,
    meta: TriageMeta & { ifRev: number },
  ): Promise<{ rev: number; from: TriageState | null }>;
  /**
   * Sets the analysis of every finding given by ids, or matching a filter
   * (the list filters), all or none: an unknown id throws not_found naming
   * its index, more than `max` matches throws triage_too_many; nothing
   * changes then.
   */
  bulkSetAnalysis(
    org: string,
    target: { ids: readonly string[] } | { filter: FindingFilter },
    change: TriageChange,
    meta: TriageMeta & { max: number },
  ): Promise<{ changes: { id: string; from: TriageState | null }[] }>;
  /**
   * Records the risk acceptances whose expiresAt is at or before `now` as
   * expired (history entry 'expired'; analysis back to in_triage by
   * 'vulnvault'). Reads never wait for it: expiry is evaluated at read.
   * Returns how many it recorded.
   */
  sweepExpired(now: string): Promise<number>;
}

export interface ScanMeta {
  scanId: string;
  org: string;
  format: string;
  /** Who uploaded (for the scan record). */
  principal: string;
  startedAt: string;
  /**
   * The SLA policy for an org without one of its own in the store (the
   * config's sla.default); DEFAULT_SLA when absent.
   */
  sla?: SlaPolicy | undefined;
}

export interface ScanCounts {
  new: number;
  updated: number;
  unchanged: number;
  fixed: number;
  reopened: number;
}

/**
 * One upload being imported. Staged findings are invisible until commit,
 * which applies them all at once (re-import semantics) or not at all; abort
 * (or a crash) leaves the findings as they were. Findings staged twice with
 * the same identity are merged (CVEs united, other fields from the last one).
 */
export interface ScanImport {
  stage(findings: readonly ScannedFinding[], assets: readonly CoveredAsset[]): Promise<void>;
  commit(received: number): Promise<ScanCounts>;
  abort(): Promise<void>;
}

export interface FindingsWriter {
  /**
   * Stores all records or none. Throws VaultError('vuln_exists') naming the
   * index of the first record whose (org, vulnId) is already stored.
   */
  insertSeedBatch(records: readonly NewSeedFinding[]): Promise<{ stored: number }>;
  beginScanImport(meta: ScanMeta): Promise<ScanImport>;
}

export type IdempotencyState =
  | { state: 'started' }
  | { state: 'running' }
  | { state: 'done'; requestHash: string; status: number; body: string };

/**
 * Idempotency-Key records, scoped per principal. begin() atomically claims a
 * key or reports what is there; complete() stores the response to replay;
 * release() forgets a claim whose request failed.
 */
export interface IdempotencyStore {
  begin(scope: string, key: string, now: Date): Promise<IdempotencyState>;
  complete(
    scope: string,
    key: string,
    r: { requestHash: string; status: number; body: string },
  ): Promise<void>;
  release(scope: string, key: string): Promise<void>;
}

export interface PolicyReader {
  /** True only when an explicit grant exists. Throws when the store fails. */
  isAllowed(principal: PrincipalRef, action: Action, org: string): Promise<boolean>;
}

export interface Grant {
  principal: PrincipalRef;
  action: Action;
  org: string;
}

export interface PolicyWriter {
  grant(g: Grant): boolean;
  revoke(g: Grant): boolean;
  list(filter?: Partial<{ principal: PrincipalRef; action: Action; org: string }>): Grant[];
}

/** LO 1.1: one record per authentication or authorization decision. */
export interface AuthzEvent {
  time: string;
  requestId: string | null;
  sourceIp: string;
  principal: {
    id: string | null;
    /** Principal type and name as policies name them (`ou`/`client`/`iam`). */
    type: PrincipalType | null;
    name: string | null;
    /** The OU when the caller used a certificate (kept for log readers). */
    ou: string | null;
    subject: string | null;
    issuer: string | null;
    serial: string | null;
    fingerprint256: string | null;
  };
  action: Action | 'connect' | 'authenticate' | 'pki:enroll' | 'pki:reenroll' | 'pki:enroll-token';
  org: string | null;
  decision: 'allow' | 'deny' | 'error';
  reason: string;
}

/** LO 1.3: one record per data access: who read or wrote which org, how much. */
export interface DataAccessEvent {
  time: string;
  requestId: string;
  sourceIp: string;
  principal: {
    id: string;
    type: PrincipalType;
    name: string;
    ou: string | null;
    /** Certificate fingerprint, or null for token and IAM callers. */
    fingerprint256: string | null;
  };
  action: Action;
  org: string;
  count: number;
  scanId: string | null;
  /** findings:triage: which finding, and its analysis state before and after. */
  finding?: { id: string; from: string | null; to: string } | undefined;
}

export interface AuditSink {
  authz(event: AuthzEvent): void;
  dataAccess(event: DataAccessEvent): void;
  close(): Promise<void>;
}

/**
 * CSH 1.2: request counts per principal and quota period ("2026-11-24",
 * "2026-11"), kept across restarts. Reads and increments are synchronous and
 * cheap (served from memory); the adapter persists them in the background
 * and on close.
 */
export interface UsageCounter {
  count(principal: string, period: string): number;
  increment(principal: string, period: string): void;
  flush(): void;
  close(): void;
}
