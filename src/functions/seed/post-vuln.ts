// POST /vuln: store the demo's records, all or nothing. The edge has already
// validated each record against the OpenAPI schema; this function checks what
// a schema cannot (calendar dates, duplicates inside the batch) and asks
// authorize for findings:write on every org in the request before writing.

import { VaultError } from '../../core/errors.js';
import type { CallContext } from '../../core/principal.js';
import type {
  AuditSink,
  FindingsWriter,
  IdempotencyStore,
  NewSeedFinding,
} from '../../core/ports.js';
import { dataAccessEvent } from '../data-access.js';
import { requireDueDate, type SeedRecord } from '../../core/seed-record.js';
import type { Authorize } from '../authorize.js';
import { checkIdempotencyKey, hashJson, runIdempotent, type Replayable } from '../idempotency.js';

export interface PostVulnDeps {
  authorize: Authorize;
  writer: FindingsWriter;
  audit: AuditSink;
  idempotency: IdempotencyStore;
}

export async function postVuln(
  ctx: CallContext,
  body: SeedRecord | SeedRecord[],
  deps: PostVulnDeps,
  idempotencyKey?: string,
): Promise<Replayable<{ stored: number }>> {
  const key = checkIdempotencyKey(idempotencyKey);
  const records = Array.isArray(body) ? body : [body];
  const seen = new Set<string>();
  const rows: NewSeedFinding[] = records.map((r, index) => {
    const key = `${r.Org}\u0000${r.VulnID}`;
    if (seen.has(key)) {
      throw new VaultError(
        'duplicate_in_batch',
        `record ${index}: the same VulnID appears earlier in this batch for its org; nothing was stored`,
      );
    }
    seen.add(key);
    return {
      vulnId: r.VulnID,
      org: r.Org,
      asset: r.AssetName,
      dueDate: requireDueDate(r, index),
      pluginId: String(r.PluginId),
      title: r.PluginName,
      priority: r.Priority,
    };
  });
  await deps.authorize(
    ctx,
    'findings:write',
    rows.map((r) => r.org),
  );
  return runIdempotent(deps.idempotency, ctx, key, hashJson(body), async () => {
    const stored = await deps.writer.insertSeedBatch(rows);
    const perOrg = new Map<string, number>();
    for (const r of rows) perOrg.set(r.org, (perOrg.get(r.org) ?? 0) + 1);
    for (const [org, count] of perOrg) {
      deps.audit.dataAccess(dataAccessEvent(ctx, 'findings:write', org, count));
    }
    return { status: 201, body: stored };
  });
}
