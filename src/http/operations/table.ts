// What every group of the operation table shares: the table and binding types,
// and which group serves which action of the contract (x-vulnvault-action).

import type { CallContext } from '../../core/principal.js';
import type { Replayable } from '../../functions/idempotency.js';
import type { BoundHandler, Handler, OperationId } from '../operation-types.js';

export type Table<D> = { [O in OperationId]?: Handler<O, D> };

/** Which group serves an operation: its action in the contract, or none (public). */
export type OperationGroup = 'public' | 'read' | 'write' | 'triage';
export const GROUP_OF_ACTION: Readonly<Record<string, OperationGroup>> = {
  'findings:read': 'read',
  'findings:write': 'write',
  'findings:triage': 'triage',
};

export type BoundOperations = Partial<Record<OperationId, BoundHandler>>;

export function bind<D>(table: Table<D>, deps: D): BoundOperations {
  const out: BoundOperations = {};
  for (const [id, h] of Object.entries(table) as [OperationId, Handler<OperationId, D>][]) {
    out[id] = (req, ctx: CallContext) => h(req, ctx, deps);
  }
  return out;
}

/** A 201 that may be the replay of an earlier one (Idempotency-Key). */
export const replied = <T>(r: Replayable<T>) => ({
  status: r.status as 201,
  body: r.body,
  ...(r.replayed ? { headers: { 'idempotent-replayed': 'true' } } : {}),
});
