// The triage group (findings:triage): people's analysis of findings. Given a
// triage port (which changes analysis only, never findings' content or
// status) and a reader to answer with the changed finding; no writer (IAM 1.3).

import type { AuditSink, FindingsReader, FindingsTriage, PolicyReader } from '../../core/ports.js';
import { createAuthorize } from '../../functions/authorize.js';
import {
  postFindingsAnalysis,
  putFindingAnalysis,
  type TriageDeps,
} from '../../functions/triage/analysis.js';
import { bind, type BoundOperations, type Table } from './table.js';

export interface TriagePorts {
  policies: PolicyReader;
  triage: FindingsTriage;
  reader: FindingsReader;
  audit: AuditSink;
  /** Longest risk acceptance in days (config triage.maxRiskAcceptanceDays). */
  maxRiskAcceptanceDays?: number | undefined;
  clock?: (() => Date) | undefined;
}

export const TRIAGE = {
  putFindingAnalysis: async (req, ctx, d) => {
    const body = await putFindingAnalysis(
      ctx,
      { ...req.params, ifMatch: req.header('if-match'), body: req.body },
      d,
    );
    return { status: 200, body, headers: { etag: body.etag } };
  },
  postFindingsAnalysis: async (req, ctx, d) => ({
    status: 200,
    body: await postFindingsAnalysis(ctx, { org: req.params.org, body: req.body }, d),
  }),
} satisfies Table<TriageDeps>;

export function triageOperations(p: TriagePorts): BoundOperations {
  return bind<TriageDeps>(TRIAGE, {
    authorize: createAuthorize({ policies: p.policies, audit: p.audit }),
    triage: p.triage,
    reader: p.reader,
    audit: p.audit,
    maxRiskAcceptanceDays: p.maxRiskAcceptanceDays,
    clock: p.clock,
  });
}
