// authorize (IAM 1.2): deny by default. A principal may perform an action on
// an org only through an explicit grant in the policy store. Every decision
// is written to the authorization log (LO 1.1). If the store cannot answer,
// the request is denied with 503; nothing is read or written.
// The same function backs the local edge and, on AWS, the Lambda authorizer
// and the ingest and query Lambdas (which decide again: defense in depth).

import { VaultError } from '../core/errors.js';
import type { Action, CallContext } from '../core/principal.js';
import type { AuditSink, AuthzEvent, PolicyReader } from '../core/ports.js';

export interface AuthorizeDeps {
  policies: PolicyReader;
  audit: AuditSink;
}

export type Authorize = (
  ctx: CallContext,
  action: Action,
  orgs: readonly string[],
) => Promise<void>;

export function principalFields(ctx: Pick<CallContext, 'principal'>): AuthzEvent['principal'] {
  const p = ctx.principal;
  const c = p.certificate;
  return {
    id: p.id,
    type: p.ref.type,
    name: p.ref.name,
    ou: p.ref.type === 'ou' ? p.ref.name : null,
    subject: c?.subject ?? p.token?.subject ?? p.iam?.arn ?? null,
    issuer: c?.issuer ?? p.token?.issuer ?? null,
    serial: c?.serial ?? p.token?.tokenId ?? null,
    fingerprint256: c?.fingerprint256 ?? null,
  };
}

/** Resolves when `action` is granted on every org; otherwise throws. */
export function createAuthorize(deps: AuthorizeDeps): Authorize {
  return async (ctx, action, orgs) => {
    const distinct = [...new Set(orgs)];
    const principal = principalFields(ctx);
    const event = (org: string, decision: AuthzEvent['decision'], reason: string): AuthzEvent => ({
      time: new Date().toISOString(),
      requestId: ctx.requestId,
      sourceIp: ctx.sourceIp,
      principal,
      action,
      org,
      decision,
      reason,
    });

    // A credential limited to some actions (token scopes) narrows the grant:
    // the policy is not even consulted for an action outside its scopes.
    const scopes = ctx.principal.scopes;
    if (scopes !== undefined && !scopes.includes(action)) {
      for (const org of distinct) deps.audit.authz(event(org, 'deny', 'action not in token scope'));
      throw new VaultError(
        'forbidden',
        `${action} is outside the scopes of this credential; nothing was done`,
      );
    }

    let denied: string | undefined;
    for (const org of distinct) {
      let allowed: boolean;
      try {
        allowed = await deps.policies.isAllowed(ctx.principal.ref, action, org);
      } catch (err) {
        deps.audit.authz(event(org, 'error', 'policy store unavailable'));
        throw err instanceof VaultError
          ? err
          : new VaultError('policy_unavailable', 'the policy store is unavailable; access denied', {
              cause: err,
            });
      }
      deps.audit.authz(
        event(
          org,
          allowed ? 'allow' : 'deny',
          allowed
            ? 'grant found'
            : `no grant for this ${ctx.principal.ref.type === 'ou' ? 'OU' : 'principal'}`,
        ),
      );
      if (!allowed && denied === undefined) denied = org;
    }
    if (denied !== undefined) {
      throw new VaultError(
        'forbidden',
        `${action} on org "${denied}" is not granted to this client; nothing was done`,
      );
    }
  };
}
