// GET /vuln?org=ORG: one page of an org's seed records (those stored through
// POST /vuln) in the demo's shape; scan findings are served by
// /v1/orgs/{org}/findings, their fields do not fit this one.
// The cursor is opaque to clients: the last ordering key under an HMAC tag
// (query/cursor.ts) bound to the org and the caller's principal type.

import type { CursorKeys } from '../../core/cursor-keys.js';
import type { CallContext } from '../../core/principal.js';
import type { AuditSink, FindingsReader } from '../../core/ports.js';
import { decodeCursor, encodeCursor, type CursorBinding } from '../query/cursor.js';
import { dataAccessEvent } from '../data-access.js';
import { formatDueDate, type SeedRecord } from '../../core/seed-record.js';
import type { Authorize } from '../authorize.js';

export interface GetVulnDeps {
  authorize: Authorize;
  reader: FindingsReader;
  audit: AuditSink;
  cursors: CursorKeys;
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

export async function getVuln(
  ctx: CallContext,
  req: GetVulnRequest,
  deps: GetVulnDeps,
): Promise<VulnPage> {
  // Validate the cursor before authorizing so a bad request is a 400 either way,
  // but read nothing until authorize has allowed it.
  const binding: CursorBinding = {
    listing: 'vuln',
    org: req.org,
    principalType: ctx.principal.ref.type,
    filters: null,
  };
  const afterSeq = decodeCursor(deps.cursors, binding, req.cursor);
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
    next: page.lastSeq === undefined ? null : encodeCursor(deps.cursors, binding, page.lastSeq),
  };
}
