// The edge's per-request controls, run first in onRequest, before the body is
// read, routed or validated, in this order:
//   request line and Host (RFC 9112, http-framing.ts) → header count (DoS)
//   → IP policy with trusted X-Forwarded-For (NS 1.1)
//   → global bucket (CSH 1.2) → principal from the certificate or bearer
//     token (IAM 1.1, credentials.ts; asynchronous only for tokens)
//   → the principal's usage plan: bucket and quota (CSH 1.2)
// so a request refused here is never parsed, authorized nor executed.
// Refusals that say "stop talking to me" also close the connection.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TLSSocket } from 'node:tls';
import { VaultError } from '../core/errors.js';
import type { AuditSink } from '../core/ports.js';
import type { Principal } from '../core/principal.js';
import type { ResolvePrincipal } from './credentials.js';
import { connectionRefused } from './connection-gate.js';
import { framingError } from './http-framing.js';
import type { IpPolicy } from './ip-policy.js';
import { tooManyHeaders } from './limits.js';
import type { Admitted, Refused, Throttle } from './throttle.js';

export interface RequestGuardOptions {
  ipPolicy: IpPolicy;
  throttle: Throttle;
  authenticate: ResolvePrincipal;
  audit: AuditSink;
  maxHeaderCount: number;
}

function rateHeaders(reply: FastifyReply, r: Admitted | Refused): void {
  reply.header('ratelimit-policy', r.policy).header('ratelimit', r.remaining);
}

function refuse(reply: FastifyReply, r: Refused): never {
  rateHeaders(reply, r);
  reply.header('retry-after', String(r.retryAfter));
  throw new VaultError(r.code, r.message);
}

export function createRequestGuard(o: RequestGuardOptions) {
  const admit = (request: FastifyRequest, reply: FastifyReply, principal: Principal): void => {
    request.principal = principal;
    const r = o.throttle.principal(
      `${principal.ref.type}:${principal.ref.name}`,
      principal.ref.name,
    );
    if (!r.ok) refuse(reply, r);
    rateHeaders(reply, r);
  };
  const closeOnUnauthenticated = (reply: FastifyReply, err: unknown) => {
    if (err instanceof VaultError && err.code === 'unauthenticated') {
      reply.header('connection', 'close');
    }
  };

  /** Synchronous for certificate callers; a promise only while a token is verified. */
  return (request: FastifyRequest, reply: FastifyReply): void | Promise<void> => {
    const socket = request.raw.socket as TLSSocket;
    const framing = framingError(request.raw);
    if (framing !== undefined) {
      reply.header('connection', 'close');
      throw new VaultError('bad_request', framing);
    }
    if (tooManyHeaders(request.raw.rawHeaders, o.maxHeaderCount)) {
      reply.header('connection', 'close');
      throw new VaultError(
        'headers_too_large',
        `a request may carry at most ${o.maxHeaderCount} headers`,
      );
    }

    const peer = socket.remoteAddress ?? '';
    const xff = request.headers['x-forwarded-for'];
    const clientIp = o.ipPolicy.clientIp(peer, Array.isArray(xff) ? xff.join(',') : xff);
    if (clientIp === undefined) {
      reply.header('connection', 'close');
      throw new VaultError('bad_request', 'X-Forwarded-For cannot be parsed');
    }
    request.clientIp = clientIp;
    if (!o.ipPolicy.allows(clientIp)) {
      o.audit.authz({
        ...connectionRefused(clientIp, 'source address not allowed'),
        requestId: request.id,
      });
      reply.header('connection', 'close');
      throw new VaultError('ip_denied', 'requests from this address are not allowed');
    }

    const g = o.throttle.global();
    if (!g.ok) refuse(reply, g);
    if (request.routeOptions.config.enrolment === true) return;

    let principal;
    try {
      principal = o.authenticate(request, reply, socket, clientIp);
    } catch (err) {
      closeOnUnauthenticated(reply, err);
      throw err;
    }
    if (principal instanceof Promise) {
      return principal.then((p) => admit(request, reply, p));
    }
    admit(request, reply, principal);
  };
}
