// GET /v1/orgs/{org}/findings, …/findings/{id} and …/summary. Each asks
// authorize for findings:read on the org before reading anything, and reads
// through the reader port only (IAM 1.3).

import type { CursorKeys } from '../../core/cursor-keys.js';
import { VaultError } from '../../core/errors.js';
import {
  SEVERITIES,
  type FindingStatus,
  type ScannerAnalysis,
  type Severity,
} from '../../core/finding.js';
import type { CallContext } from '../../core/principal.js';
import type {
  AuditSink,
  Finding,
  FindingFilter,
  FindingsReader,
  FindingsSummary,
} from '../../core/ports.js';
import { dataAccessEvent } from '../data-access.js';
import type { Authorize } from '../authorize.js';
import { isActive, TRIAGE_STATES, type HistoryEntry, type TriageState } from '../../core/triage.js';
import {
  decodeCursor,
  decodeSortCursor,
  encodeCursor,
  encodeSortCursor,
  type CursorBinding,
} from './cursor.js';

export interface QueryDeps {
  authorize: Authorize;
  reader: FindingsReader;
  audit: AuditSink;
  /** Keys of the page cursors' tags (listFindings only). */
  cursors: CursorKeys;
  /** The clock expiry and SLAs are evaluated against (tests inject one). */
  clock?: (() => Date) | undefined;
}

export interface ListFindingsRequest {
  org: string;
  /** comma-separated severities, e.g. "high,critical" */
  severity?: string | undefined;
  status?: FindingStatus | undefined;
  cve?: string | undefined;
  asset?: string | undefined;
  since?: string | undefined;
  q?: string | undefined;
  active?: boolean | undefined;
  /** comma-separated analysis states, 'none' included */
  analysis?: string | undefined;
  overdue?: boolean | undefined;
  dueBefore?: string | undefined;
  kev?: boolean | undefined;
  epssMin?: number | undefined;
  sort?: 'seq' | 'priority' | 'due' | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** The analysis the API shows: a person's (user) when there is one, else the scanner's. */
export interface AnalysisView {
  state: TriageState | ScannerAnalysis['state'];
  justification: ScannerAnalysis['justification'];
  response: ScannerAnalysis['response'];
  /** The scanner's reason or the person's comment. */
  detail: string;
  source: 'scanner' | 'user';
  by: string | null;
  at: string | null;
  expiresAt: string | null;
}

type Internal = 'seq' | 'analysis' | 'triage' | 'rev' | 'suppressedUntil' | 'firstScanId';

/** The API form of a finding: the store's keys and bookkeeping stay internal. */
export type FindingView = Omit<Finding, Internal> & {
  analysis: AnalysisView | null;
  etag: string;
  active: boolean;
};
export type FindingListItem = Omit<
  FindingView,
  'description' | 'solution' | 'evidence' | 'analysis'
> & {
  analysis: Omit<AnalysisView, 'detail'> | null;
};

/** A finding's ETag: its revision, quoted (RFC 9110). */
export const etagOf = (f: Pick<Finding, 'rev'>): string => `"${f.rev}"`;

export function analysisView(f: Pick<Finding, 'triage' | 'analysis'>): AnalysisView | null {
  const t = f.triage;
  if (t) {
    return {
      state: t.state,
      justification: t.justification,
      response: t.response,
      detail: t.comment,
      source: 'user',
      by: t.by,
      at: t.at,
      expiresAt: t.expiresAt,
    };
  }
  const a = f.analysis;
  return (
    a && {
      state: a.state,
      justification: a.justification,
      response: a.response,
      detail: a.detail,
      source: 'scanner',
      by: null,
      at: null,
      expiresAt: null,
    }
  );
}

export function findingView(f: Finding, now: string): FindingView {
  const view: Partial<Finding> = { ...f };
  for (const k of ['seq', 'triage', 'rev', 'suppressedUntil', 'firstScanId'] as const)
    delete view[k];
  return {
    ...(view as Omit<Finding, Internal>),
    analysis: analysisView(f),
    etag: etagOf(f),
    active: isActive(f, now),
  };
}

function listItem(f: Finding, now: string): FindingListItem {
  const full = findingView(f, now);
  const item: Partial<FindingView> = full;
  delete item.description;
  delete item.solution;
  delete item.evidence;
  const a = full.analysis;
  if (a) {
    const summary: Partial<AnalysisView> = { ...a };
    delete summary.detail;
    return { ...(item as FindingListItem), analysis: summary as Omit<AnalysisView, 'detail'> };
  }
  return { ...(item as FindingListItem), analysis: null };
}

const nowOf = (deps: { clock?: (() => Date) | undefined }) =>
  (deps.clock ?? (() => new Date()))().toISOString();

/** The list filters of a request (GET findings, bulk triage by filter), checked and normalized. */
export function findingFilter(
  req: Omit<ListFindingsRequest, 'org' | 'limit' | 'cursor'>,
): FindingFilter {
  return {
    severity: parseSeverities(req.severity),
    status: req.status,
    cve: req.cve?.toUpperCase(),
    asset: req.asset,
    since: req.since === undefined ? undefined : isoTime(req.since, 'since'),
    q: req.q,
    active: req.active,
    analysis: parseAnalysisStates(req.analysis),
    overdue: req.overdue,
    dueBefore: req.dueBefore === undefined ? undefined : isoTime(req.dueBefore, 'dueBefore'),
    kev: req.kev,
    epssMin: req.epssMin,
  };
}

export async function listFindings(
  ctx: CallContext,
  req: ListFindingsRequest,
  deps: QueryDeps,
): Promise<{ org: string; items: FindingListItem[]; next: string | null }> {
  const sort = req.sort ?? 'seq';
  const filter: FindingFilter = { ...findingFilter(req), sort };
  // Only what the client chose is bound into the cursor (not the clock).
  const binding: CursorBinding = {
    listing: 'findings',
    org: req.org,
    principalType: ctx.principal.ref.type,
    filters: filter,
  };
  const after = decodeSortCursor(deps.cursors, binding, req.cursor, sort !== 'seq');
  await deps.authorize(ctx, 'findings:read', [req.org]);
  const now = nowOf(deps);
  const page = await deps.reader.queryFindings(
    req.org,
    { ...filter, now },
    after,
    req.limit,
    'list',
  );
  deps.audit.dataAccess(dataAccessEvent(ctx, 'findings:read', req.org, page.items.length));
  return {
    org: req.org,
    items: page.items.map((f) => listItem(f, now)),
    next:
      page.lastSeq === undefined
        ? null
        : encodeSortCursor(
            deps.cursors,
            binding,
            sort === 'seq' ? page.lastSeq : { key: Number(page.lastKey), seq: page.lastSeq },
          ),
  };
}

export async function getFinding(
  ctx: CallContext,
  req: { org: string; id: string },
  deps: QueryDeps,
): Promise<FindingView> {
  await deps.authorize(ctx, 'findings:read', [req.org]);
  const f = await deps.reader.getFinding(req.org, req.id);
  deps.audit.dataAccess(dataAccessEvent(ctx, 'findings:read', req.org, f ? 1 : 0));
  if (!f) throw new VaultError('not_found', 'no finding with this id in this org');
  return findingView(f, nowOf(deps));
}

export interface HistoryView {
  org: string;
  id: string;
  items: (Omit<HistoryEntry, 'analysis'> & { analysis: AnalysisView | null })[];
  next: string | null;
}

export async function getFindingHistory(
  ctx: CallContext,
  req: { org: string; id: string; limit: number; cursor?: string | undefined },
  deps: QueryDeps,
): Promise<HistoryView> {
  const binding: CursorBinding = {
    listing: 'history',
    org: req.org,
    principalType: ctx.principal.ref.type,
    filters: { id: req.id },
  };
  const after = req.cursor === undefined ? null : decodeCursor(deps.cursors, binding, req.cursor);
  await deps.authorize(ctx, 'findings:read', [req.org]);
  const page = await deps.reader.history(req.org, req.id, after, req.limit);
  deps.audit.dataAccess(dataAccessEvent(ctx, 'findings:read', req.org, page ? 1 : 0));
  if (!page) throw new VaultError('not_found', 'no finding with this id in this org');
  return {
    org: req.org,
    id: req.id,
    items: page.items.map((e) => ({
      ...e,
      analysis: e.analysis && analysisView({ triage: e.analysis, analysis: null }),
    })),
    next: page.last === undefined ? null : encodeCursor(deps.cursors, binding, page.last),
  };
}

export async function getSummary(
  ctx: CallContext,
  req: { org: string; top: number },
  deps: QueryDeps,
): Promise<{ org: string } & FindingsSummary> {
  await deps.authorize(ctx, 'findings:read', [req.org]);
  const summary = await deps.reader.summary(req.org, req.top, nowOf(deps));
  const counted = summary.bySeverityStatus.reduce((n, r) => n + r.count, 0);
  deps.audit.dataAccess(dataAccessEvent(ctx, 'findings:read', req.org, counted));
  return { org: req.org, ...summary };
}

function parseSeverities(s: string | undefined): Severity[] | undefined {
  if (s === undefined) return undefined;
  const list = s.split(',').map((x) => x.trim().toLowerCase());
  for (const x of list) {
    if (!(SEVERITIES as readonly string[]).includes(x)) {
      throw new VaultError(
        'validation_failed',
        `query parameter 'severity' must be a comma-separated list of ${SEVERITIES.join(', ')}`,
      );
    }
  }
  return [...new Set(list)] as Severity[];
}

function parseAnalysisStates(s: string | undefined): FindingFilter['analysis'] {
  if (s === undefined) return undefined;
  const all = ['none', ...TRIAGE_STATES, 'resolved'] as const;
  const list = s.split(',').map((x) => x.trim());
  for (const x of list) {
    if (!(all as readonly string[]).includes(x)) {
      throw new VaultError(
        'validation_failed',
        `query parameter 'analysis' must be a comma-separated list of ${all.join(', ')}`,
      );
    }
  }
  return [...new Set(list)] as NonNullable<FindingFilter['analysis']>;
}

export function isoTime(s: string, name: string): string {
  const t = Date.parse(s);
  if (Number.isNaN(t)) {
    throw new VaultError(
      'validation_failed',
      `query parameter '${name}' must be an ISO 8601 date or date-time`,
    );
  }
  return new Date(t).toISOString();
}
