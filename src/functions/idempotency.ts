// Idempotency-Key handling shared by every POST: same key and same body →
// the first response is replayed; same key, different body → 422; a retry
// while the first is still running → 409. Keys are scoped per principal (the
// certificate's issuer and subject, stable across renewals), so one client
// can neither replay nor block another's keys. Only successful responses are
// recorded: a failed request releases its key and may be retried.

import { createHash } from 'node:crypto';
import { VaultError } from '../core/errors.js';
import type { CallContext } from '../core/principal.js';
import type { IdempotencyState, IdempotencyStore } from '../core/ports.js';

const KEY_RE = /^[A-Za-z0-9_.:-]{1,128}$/;

export interface Replayable<T> {
  status: number;
  body: T;
  replayed: boolean;
}

export function idempotencyScope(ctx: CallContext): string {
  // Scoped to the credential's holder: certificate issuer + subject, token
  // issuer + client id, or IAM ARN, so two callers never share keys.
  const p = ctx.principal;
  const who = p.certificate
    ? `cert\n${p.certificate.issuer}\n${p.certificate.subject}`
    : p.token
      ? `token\n${p.token.issuer}\n${p.token.clientId}`
      : `iam\n${p.iam?.arn ?? p.ref.name}`;
  return createHash('sha256').update(`${p.ref.type}\n${who}`).digest('base64url');
}

export function checkIdempotencyKey(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  if (!KEY_RE.test(key)) {
    throw new VaultError(
      'idempotency_key_invalid',
      'Idempotency-Key must be 1–128 characters of A–Z a–z 0–9 _ . : -',
    );
  }
  return key;
}

/** Claims the key; throws 409 while another request holds it. */
export async function claimKey(
  store: IdempotencyStore,
  scope: string,
  key: string,
): Promise<Exclude<IdempotencyState, { state: 'running' }>> {
  const st = await store.begin(scope, key, new Date());
  if (st.state === 'running') {
    throw new VaultError(
      'idempotency_in_progress',
      'a request with this Idempotency-Key is still being processed; retry later',
    );
  }
  return st;
}

export function replay<T>(
  st: Extract<IdempotencyState, { state: 'done' }>,
  requestHash: string,
): Replayable<T> {
  if (st.requestHash !== requestHash) {
    throw new VaultError(
      'idempotency_key_reused',
      'this Idempotency-Key was already used with a different request body; use a new key',
    );
  }
  return { status: st.status, body: JSON.parse(st.body) as T, replayed: true };
}

/** For requests whose body hash is known up front (parsed JSON bodies). */
export async function runIdempotent<T>(
  store: IdempotencyStore,
  ctx: CallContext,
  key: string | undefined,
  requestHash: string,
  run: () => Promise<{ status: number; body: T }>,
): Promise<Replayable<T>> {
  if (key === undefined) return { ...(await run()), replayed: false };
  const scope = idempotencyScope(ctx);
  const st = await claimKey(store, scope, key);
  if (st.state === 'done') return replay<T>(st, requestHash);
  return finishIdempotent(store, scope, key, requestHash, run);
}

/** Runs the request under a claimed key: records success, releases on failure. */
export async function finishIdempotent<T>(
  store: IdempotencyStore,
  scope: string,
  key: string,
  requestHash: string | (() => string),
  run: () => Promise<{ status: number; body: T }>,
): Promise<Replayable<T>> {
  let r: { status: number; body: T };
  try {
    r = await run();
  } catch (err) {
    await store.release(scope, key).catch(() => undefined);
    throw err;
  }
  const hash = typeof requestHash === 'string' ? requestHash : requestHash();
  await store.complete(scope, key, {
    requestHash: hash,
    status: r.status,
    body: JSON.stringify(r.body),
  });
  return { ...r, replayed: false };
}

export function hashJson(body: unknown): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}
