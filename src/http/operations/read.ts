// The read group (findings:read): given a findings reader only, never a
// writer (IAM 1.3), so a runtime that deploys it alone cannot write.

import type { CursorKeys } from '../../core/cursor-keys.js';
import type { AuditSink, FindingsReader, PolicyReader } from '../../core/ports.js';
import { createAuthorize, type Authorize } from '../../functions/authorize.js';
import {
  getFinding,
  getFindingHistory,
  getSummary,
  listFindings,
} from '../../functions/query/findings.js';
import { getVex } from '../../functions/query/vex.js';
import { getVuln } from '../../functions/seed/get-vuln.js';
import { bind, type BoundOperations, type Table } from './table.js';

/** What the read group needs: policies, a findings reader, the audit sink, the cursor keys. */
export interface ReadPorts {
  policies: PolicyReader;
  reader: FindingsReader;
  audit: AuditSink;
  cursors: CursorKeys;
  /** The clock expiry and SLAs are evaluated against (tests inject one). */
  clock?: (() => Date) | undefined;
}

interface ReadDeps {
  authorize: Authorize;
  reader: FindingsReader;
  audit: AuditSink;
  cursors: CursorKeys;
  clock?: (() => Date) | undefined;
}

export const READ = {
  getVuln: async (req, ctx, d) => ({ status: 200, body: await getVuln(ctx, req.query, d) }),
  listFindings: async (req, ctx, d) => ({
    status: 200,
    body: await listFindings(ctx, { org: req.params.org, ...req.query }, d),
  }),
  getFinding: async (req, ctx, d) => {
    const body = await getFinding(ctx, req.params, d);
    return { status: 200, body, headers: { etag: body.etag } };
  },
  getVex: async (req, ctx, d) => ({
    status: 200,
    body: await getVex(ctx, { org: req.params.org, format: req.query.format }, d),
  }),
  getFindingHistory: async (req, ctx, d) => ({
    status: 200,
    body: await getFindingHistory(ctx, { ...req.params, ...req.query }, d),
  }),
  getSummary: async (req, ctx, d) => ({
    status: 200,
    body: await getSummary(ctx, { org: req.params.org, top: req.query.top }, d),
  }),
} satisfies Table<ReadDeps>;

export function readOperations(p: ReadPorts): BoundOperations {
  const authorize = createAuthorize({ policies: p.policies, audit: p.audit });
  return bind<ReadDeps>(READ, {
    reader: p.reader,
    audit: p.audit,
    cursors: p.cursors,
    clock: p.clock,
    authorize,
  });
}
