// GET /vuln?org=ORG: one page of an org's seed records (those stored through
// POST /vuln) in the demo's shape; scan findings are served by
// /v1/orgs/{org}/findings, their fields do not fit this one.
// The cursor is opaque to clients: it carries the last ordering key and a
// tag of the org it belongs to, so a cursor cannot be replayed on another org.

import { createHash } from 'node:crypto';
import { VaultError } from '../../core/errors.js';
import type { CallContext } from '../../core/principal.js';
import type { AuditSink, FindingsReader } from '../../core/ports.js';
import { dataAccessEvent } from '../data-access.js';
import { formatDueDate, type SeedRecord } from '../../core/seed-record.js';
import type { Authorize } from '../authorize.js';

export interface GetVulnDeps {
  authorize: Authorize;
  reader: FindingsReader;
  audit: AuditSink;
}

export interface GetVulnRequest {
  org: string;
  limit: number;
  cursor?: string | undefined;
}

export interface VulnPage {
  org: string;
  items: SeedRecord[];
  next: string | null;
}

function orgTag(org: string): string {
  return createHash('sha256').update(org).digest('base64url').slice(0, 8);
}

export function encodeCursor(org: string, seq: number): string {
  return Buffer.from(`v1:${orgTag(org)}:${seq}`).toString('base64url');
}

export function decodeCursor(org: string, cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^v1:([A-Za-z0-9_-]{8}):(\d{1,15})$/.exec(text);
  if (!m || m[1] !== orgTag(org)) {
    throw new VaultError(
      'invalid_cursor',
      'cursor is not valid for this query; pass the "next" value of the previous page unchanged',
    );
  }
  return Number(m[2]);
}

export async function getVuln(
  ctx: CallContext,
  req: GetVulnRequest,
  deps: GetVulnDeps,
): Promise<VulnPage> {
  // Validate the cursor before authorizing so a bad request is a 400 either way,
  // but read nothing until authorize has allowed it.
  const afterSeq = req.cursor === undefined ? 0 : decodeCursor(req.org, req.cursor);
  await deps.authorize(ctx, 'findings:read', [req.org]);
  const page = await deps.reader.listSeedRecords(req.org, afterSeq, req.limit);
  deps.audit.dataAccess(dataAccessEvent(ctx, 'findings:read', req.org, page.items.length));
  return {
    org: req.org,
    // Only seed records: every field is what POST /vuln stored, in its shape.
    items: page.items.map((f) => ({
      VulnID: f.vulnId,
      Org: f.org,
      AssetName: f.asset,
      DueDate: formatDueDate(f.dueDate),
      PluginId: Number(f.pluginId),
      PluginName: f.title,
      Priority: f.priority,
    })),
    next: page.lastSeq === undefined ? null : encodeCursor(req.org, page.lastSeq),
  };
}
