// The one gate every response of the conformance suite passes through: the
// body must match the contract's schema for its operation and status (error
// statuses: the Error schema, via the contract), the headers every response
// carries must be there, and what passed is recorded per runtime, so the
// suite can prove that every operation was exercised. Only responses that
// pass are recorded: a route counts as covered once it answered correctly.

import assert from 'node:assert/strict';
import { expectConforms, matchRoute } from './contract.js';
import type { Runtime, RuntimeRequest, RuntimeResponse } from './runtime.js';

/** Responses outside every operation (404, 405) are recorded under this name. */
export const NO_OPERATION = '(no operation)';

/** The operation a request names; undefined outside the contract. */
export function operationIdOf(r: Pick<RuntimeRequest, 'method' | 'path'>): string | undefined {
  const m = matchRoute(r.method, r.path);
  return m.kind === 'operation' ? m.operation.operationId : undefined;
}

/**
 * Fails unless the response conforms: JSON body matching the contract, the
 * security headers, a request id, and for an error the same request id in
 * the body as in the header.
 */
export function checkResponse(
  runtime: string,
  req: Pick<RuntimeRequest, 'method' | 'path'>,
  res: RuntimeResponse,
): void {
  const opId = operationIdOf(req);
  const where = `${runtime}: ${req.method} ${req.path} → ${res.status}`;
  assert.match(
    res.headers['content-type'] ?? '',
    /^application\/json(;|$)/,
    `${where}: content-type`,
  );
  assert.equal(res.headers['cache-control'], 'no-store', `${where}: cache-control`);
  assert.equal(
    res.headers['x-content-type-options'],
    'nosniff',
    `${where}: x-content-type-options`,
  );
  // The contract's promise for every response, next to the two above.
  assert.match(
    res.headers['strict-transport-security'] ?? '',
    /max-age=\d+/,
    `${where}: strict-transport-security`,
  );
  const requestId = res.headers['x-request-id'] ?? '';
  assert.ok(requestId.trim().length > 0, `${where}: x-request-id is missing or empty`);
  assert.notEqual(res.json, undefined, `${where}: the body is not JSON: ${res.text.slice(0, 200)}`);
  expectConforms(opId, res.status, res.json);
  if (res.status >= 400) {
    assert.equal(
      res.json.requestId,
      requestId,
      `${where}: the error body's requestId is the x-request-id header`,
    );
  }
}

export interface CheckedApi {
  readonly runtime: Runtime;
  /** One request; the response is checked (see checkResponse) before it is returned. */
  send(r: RuntimeRequest): Promise<RuntimeResponse>;
  /** Statuses that passed the checks, by operationId (or NO_OPERATION). */
  readonly exercised: ReadonlyMap<string, ReadonlySet<number>>;
}

export function checked(runtime: Runtime): CheckedApi {
  const exercised = new Map<string, Set<number>>();
  return {
    runtime,
    exercised,
    async send(r) {
      const res = await runtime.request(r);
      checkResponse(runtime.name, r, res);
      const key = operationIdOf(r) ?? NO_OPERATION;
      let set = exercised.get(key);
      if (!set) exercised.set(key, (set = new Set()));
      set.add(res.status);
      return res;
    },
  };
}
