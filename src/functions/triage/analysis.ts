// PUT /v1/orgs/{org}/findings/{id}/analysis, POST …/findings/analysis: a
// person's analysis of findings (issue 16). Each asks authorize for
// findings:triage on the org before reading or changing anything; every
// change is a data-access record (who, which finding, from → to) and an entry
// in the finding's history (written by the store in the same transaction).

import { VaultError } from '../../core/errors.js';
import type { AnalysisJustification, AnalysisResponse } from '../../core/finding.js';
import type { CallContext } from '../../core/principal.js';
import type { AuditSink, FindingsReader, FindingsTriage } from '../../core/ports.js';
import {
  BULK_TRIAGE_MAX,
  RISK_ACCEPTANCE_MAX_DAYS_DEFAULT,
  type TriageChange,
  type TriageState,
} from '../../core/triage.js';
import type { Authorize } from '../authorize.js';
import { dataAccessEvent } from '../data-access.js';
import {
  findingFilter,
  findingView,
  type FindingView,
  type ListFindingsRequest,
} from '../query/findings.js';

export interface TriageDeps {
  authorize: Authorize;
  triage: FindingsTriage;
  reader: FindingsReader;
  audit: AuditSink;
  /** Longest risk acceptance, in days from now (default 365). */
  maxRiskAcceptanceDays?: number | undefined;
  clock?: (() => Date) | undefined;
}

/** The request body's analysis (AnalysisChange in the contract). */
export interface AnalysisChangeBody {
  state: TriageState;
  justification?: AnalysisJustification | undefined;
  response?: AnalysisResponse[] | undefined;
  comment?: string | undefined;
  expiresAt?: string | undefined;
}

const DAY_MS = 86_400_000;

/** Checks the rules the schema cannot say, and normalizes. */
export function triageChange(body: AnalysisChangeBody, now: Date, maxDays: number): TriageChange {
  const { state } = body;
  if (body.justification !== undefined && state !== 'not_affected') {
    throw new VaultError(
      'validation_failed',
      `analysis.justification goes with state not_affected only (state is ${state})`,
    );
  }
  if (state === 'not_affected' && body.justification === undefined) {
    throw new VaultError(
      'validation_failed',
      'analysis state not_affected needs a justification (e.g. code_not_reachable), as VEX requires',
    );
  }
  let expiresAt: string | null = null;
  if (state === 'risk_accepted') {
    if (body.expiresAt === undefined) {
      throw new VaultError(
        'validation_failed',
        'analysis state risk_accepted needs expiresAt: the date the acceptance ends',
      );
    }
    const t = Date.parse(body.expiresAt);
    if (Number.isNaN(t)) {
      throw new VaultError(
        'validation_failed',
        'analysis.expiresAt must be an ISO 8601 date or date-time',
      );
    }
    if (t <= now.getTime()) {
      throw new VaultError('validation_failed', 'analysis.expiresAt must be in the future');
    }
    if (t > now.getTime() + maxDays * DAY_MS) {
      throw new VaultError(
        'validation_failed',
        `analysis.expiresAt may be at most ${maxDays} days ahead (the configured maximum of a risk acceptance)`,
      );
    }
    expiresAt = new Date(t).toISOString();
  } else if (body.expiresAt !== undefined) {
    throw new VaultError(
      'validation_failed',
      `analysis.expiresAt goes with state risk_accepted only (state is ${state})`,
    );
  }
  return {
    state,
    justification: body.justification ?? null,
    response: [...new Set(body.response ?? [])],
    comment: body.comment ?? '',
    expiresAt,
  };
}

/** The principal as history and analysis name it: "ou:customer", "client:ci-bot". */
const byOf = (ctx: CallContext) => `${ctx.principal.ref.type}:${ctx.principal.ref.name}`;

/** The revision an If-Match header names; 428 without one, 412 when it cannot match. */
export function ifMatchRev(header: string | undefined): number {
  if (header === undefined || header.trim() === '') {
    throw new VaultError(
      'precondition_required',
      "this change needs If-Match with the finding's ETag (GET the finding first), so that two people cannot overwrite each other",
    );
  }
  const m = /^\s*(?:W\/)?"([0-9]{1,15})"\s*$/.exec(header);
  if (!m) {
    throw new VaultError(
      'precondition_failed',
      "If-Match does not name the finding's current ETag; GET the finding and retry with its ETag",
    );
  }
  return Number(m[1]);
}

export async function putFindingAnalysis(
  ctx: CallContext,
  req: { org: string; id: string; ifMatch: string | undefined; body: AnalysisChangeBody },
  deps: TriageDeps,
): Promise<FindingView> {
  await deps.authorize(ctx, 'findings:triage', [req.org]);
  const now = (deps.clock ?? (() => new Date()))();
  const rev = ifMatchRev(req.ifMatch);
  const change = triageChange(
    req.body,
    now,
    deps.maxRiskAcceptanceDays ?? RISK_ACCEPTANCE_MAX_DAYS_DEFAULT,
  );
  const r = await deps.triage.setAnalysis(req.org, req.id, change, {
    by: byOf(ctx),
    at: now.toISOString(),
    ifRev: rev,
  });
  deps.audit.dataAccess({
    ...dataAccessEvent(ctx, 'findings:triage', req.org, 1),
    finding: { id: req.id, from: r.from, to: change.state },
  });
  const f = await deps.reader.getFinding(req.org, req.id);
  if (!f) throw new VaultError('not_found', 'no finding with this id in this org');
  return findingView(f, now.toISOString());
}

export interface BulkAnalysisBody {
  ids?: string[] | undefined;
  filter?:
    | (Omit<ListFindingsRequest, 'org' | 'limit' | 'cursor' | 'severity' | 'analysis'> & {
        severity?: string[] | undefined;
        analysis?: string[] | undefined;
      })
    | undefined;
  analysis: AnalysisChangeBody;
}

export async function postFindingsAnalysis(
  ctx: CallContext,
  req: { org: string; body: BulkAnalysisBody },
  deps: TriageDeps,
): Promise<{ org: string; changed: number }> {
  const { ids, filter } = req.body;
  if ((ids === undefined) === (filter === undefined)) {
    throw new VaultError(
      'validation_failed',
      'give the findings either by ids or by filter (exactly one of the two)',
    );
  }
  await deps.authorize(ctx, 'findings:triage', [req.org]);
  const now = (deps.clock ?? (() => new Date()))();
  const change = triageChange(
    req.body.analysis,
    now,
    deps.maxRiskAcceptanceDays ?? RISK_ACCEPTANCE_MAX_DAYS_DEFAULT,
  );
  const target =
    ids !== undefined
      ? { ids }
      : {
          filter: {
            ...findingFilter({
              ...filter,
              severity: filter?.severity?.join(','),
              analysis: filter?.analysis?.join(','),
            }),
            now: now.toISOString(),
          },
        };
  const r = await deps.triage.bulkSetAnalysis(req.org, target, change, {
    by: byOf(ctx),
    at: now.toISOString(),
    max: BULK_TRIAGE_MAX,
  });
  for (const c of r.changes) {
    deps.audit.dataAccess({
      ...dataAccessEvent(ctx, 'findings:triage', req.org, 1),
      finding: { id: c.id, from: c.from, to: change.state },
    });
  }
  return { org: req.org, changed: r.changes.length };
}
