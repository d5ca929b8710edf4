// Builds the data-access record (LO 1.3) a function writes once it has read
// or written findings: who, which org, how many, which scan.
import type { Action, CallContext } from '../core/principal.js';
import type { DataAccessEvent } from '../core/ports.js';

export function dataAccessEvent(
  ctx: CallContext,
  action: Action,
  org: string,
  count: number,
  scanId: string | null = null,
): DataAccessEvent {
  return {
    time: new Date().toISOString(),
    requestId: ctx.requestId,
    sourceIp: ctx.sourceIp,
    principal: {
      id: ctx.principal.id,
      type: ctx.principal.ref.type,
      name: ctx.principal.ref.name,
      ou: ctx.principal.ref.type === 'ou' ? ctx.principal.ref.name : null,
      fingerprint256: ctx.principal.certificate?.fingerprint256 ?? null,
    },
    action,
    org,
    count,
    scanId,
  };
}
