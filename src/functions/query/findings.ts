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
import { decodeCursor, encodeCursor, type CursorBinding } from './cursor.js';

export interface QueryDeps {
  authorize: Authorize;
  reader: FindingsReader;
  audit: AuditSink;
  /** Keys of the page cursors' tags (listFindings only). */
  cursors: CursorKeys;
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
  limit: number;
  cursor?: string | undefined;
}

/** Who gave a verdict: scanners today; people's verdicts come with triage. */
export type AnalysisView = ScannerAnalysis & { source: 'scanner' };

/** The API form of a finding: the store's ordering key stays internal. */
export type FindingView = Omit<Finding, 'seq' | 'analysis'> & { analysis: AnalysisView | null };
export type FindingListItem = Omit<
  FindingView,
  'description' | 'solution' | 'evidence' | 'analysis'
> & { analysis: Omit<AnalysisView, 'detail'> | null };

export function findingView(f: Finding): FindingView {
  const view: Partial<Finding> = { ...f };
  delete view.seq;
  return {
    ...(view as Omit<Finding, 'seq'>),
    analysis: f.analysis && { ...f.analysis, source: 'scanner' },
  };
}

function listItem(f: Finding): FindingListItem {
  const item: Partial<Finding> = { ...f };
  delete item.seq;
  delete item.description;
  delete item.solution;
  delete item.evidence;
  const a = f.analysis;
  return {
    ...(item as Omit<Finding, 'seq' | 'description' | 'solution' | 'evidence'>),
    analysis: a && {
      state: a.state,
      justification: a.justification,
      response: a.response,
      source: 'scanner',
    },
  };
}

export async function listFindings(
  ctx: CallContext,
  req: ListFindingsRequest,
  deps: QueryDeps,
): Promise<{ org: string; items: FindingListItem[]; next: string | null }> {
  const filter: FindingFilter = {
    severity: parseSeverities(req.severity),
    status: req.status,
    cve: req.cve?.toUpperCase(),
    asset: req.asset,
    since: req.since === undefined ? undefined : isoTime(req.since),
    q: req.q,
  };
  const binding: CursorBinding = {
    listing: 'findings',
    org: req.org,
    principalType: ctx.principal.ref.type,
    filters: filter,
  };
  const after = decodeCursor(deps.cursors, binding, req.cursor);
  await deps.authorize(ctx, 'findings:read', [req.org]);
  const page = await deps.reader.queryFindings(req.org, filter, after, req.limit, 'list');
  deps.audit.dataAccess(dataAccessEvent(ctx, 'findings:read', req.org, page.items.length));
  return {
    org: req.org,
    items: page.items.map(listItem),
    next: page.lastSeq === undefined ? null : encodeCursor(deps.cursors, binding, page.lastSeq),
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
  return findingView(f);
}

export async function getSummary(
  ctx: CallContext,
  req: { org: string; top: number },
  deps: QueryDeps,
): Promise<{ org: string } & FindingsSummary> {
  await deps.authorize(ctx, 'findings:read', [req.org]);
  const summary = await deps.reader.summary(req.org, req.top);
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

function isoTime(s: string): string {
  const t = Date.parse(s);
  if (Number.isNaN(t)) {
    throw new VaultError(
      'validation_failed',
      "query parameter 'since' must be an ISO 8601 date or date-time",
    );
  }
  return new Date(t).toISOString();
}
