// Ports: the narrow interfaces functions depend on. Adapters (SQLite on one
// machine, DynamoDB on AWS) implement them; the read path is only ever given
// a reader.

import type { CoveredAsset, FindingStatus, ScannedFinding, Severity } from './finding.js';
import type { Action, PrincipalRef, PrincipalType } from './principal.js';

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
}

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
    afterSeq: number,
    limit: number,
    fields?: 'list' | 'full',
  ): Promise<FindingsPage<Finding>>;
  getFinding(org: string, id: string): Promise<Finding | undefined>;
  /** Counts by severity × status; assets and CVEs with most open findings. */
  summary(org: string, top: number): Promise<FindingsSummary>;
}

export interface ScanMeta {
  scanId: string;
  org: string;
  format: string;
  /** Who uploaded (for the scan record). */
  principal: string;
  startedAt: string;
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
