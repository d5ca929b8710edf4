// IAM 1.1 / 1.1b per request: which credential proves who the caller is.
// Each route accepts client certificates, bearer tokens or both (auth.methods,
// auth.routes). One rule table, cheapest check first:
//
//   Authorization header? | verified certificate? | outcome
//   ----------------------+-----------------------+-----------------------------------------
//   no                    | yes                   | certificate principal (if the route takes certs)
//   no                    | no                    | 401 unauthenticated (+ WWW-Authenticate: Bearer)
//   yes                   | yes                   | 401 credentials_conflict (two identities)
//   yes                   | no                    | bearer token verified (if the route takes tokens)
//
// A credential the route does not take is refused (401 credential_not_accepted),
// never ignored: a read-only token sent beside a certificate that may write
// must not silently be dropped. Certificate callers pay one header lookup;
// token verification runs only when an Authorization header is present.
// Every refusal is written to the authorization log (LO 1.1); the token
// itself never is (only the issuer it claims).

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TLSSocket } from 'node:tls';
import { VaultError, type ErrorCode } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import type { AuditSink, AuthzEvent } from '../core/ports.js';
import type { Authenticate } from './authenticate.js';
import { TokenRefusal, type TokenVerifier } from './token-verifier.js';

export interface RouteMethods {
  certificate: boolean;
  token: boolean;
}

export type ResolvePrincipal = (
  request: FastifyRequest,
  reply: FastifyReply,
  socket: TLSSocket,
  clientIp: string,
) => Principal | Promise<Principal>;

export interface CredentialOptions {
  certificate: Authenticate;
  /** Undefined when no route takes tokens. */
  token: TokenVerifier | undefined;
  audit: AuditSink;
  /** Methods of routes without their own entry (and of unknown routes). */
  defaults: RouteMethods;
}

const REALM = 'Bearer realm="vulnvault"';
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

export function createCredentialResolver(o: CredentialOptions): ResolvePrincipal {
  const refuse = (
    request: FastifyRequest,
    clientIp: string,
    code: ErrorCode,
    message: string,
    reason: string,
    extra: { socket?: TLSSocket; issuer?: string | null; decision?: AuthzEvent['decision'] } = {},
  ): never => {
    const peer = extra.socket?.getPeerX509Certificate();
    o.audit.authz({
      time: new Date().toISOString(),
      requestId: request.id,
      sourceIp: clientIp,
      principal: {
        id: null,
        // A refused token is logged as a client principal whose name is unknown.
        type: extra.issuer === undefined ? null : 'client',
        name: null,
        ou: null,
        subject: peer?.subject.replaceAll('\n', ', ') ?? null,
        issuer: extra.issuer ?? peer?.issuer.replaceAll('\n', ', ') ?? null,
        serial: peer?.serialNumber ?? null,
        fingerprint256: peer?.fingerprint256.replaceAll(':', '').toLowerCase() ?? null,
      },
      action: 'authenticate',
      org: null,
      decision: extra.decision ?? 'deny',
      reason,
    });
    throw new VaultError(code, message);
  };

  return (request, reply, socket, clientIp) => {
    const m = request.routeOptions.config.auth ?? o.defaults;
    const authorization = request.headers.authorization;
    const verified = socket.authorized === true;

    if (authorization === undefined) {
      if (verified) {
        if (m.certificate) return o.certificate(socket, request.id, clientIp);
        reply.header('www-authenticate', REALM);
        return refuse(
          request,
          clientIp,
          'credential_not_accepted',
          'this route accepts bearer tokens only: send Authorization: Bearer <access token>',
          'client certificate not accepted on this route',
          { socket },
        );
      }
      // Only reachable when the listener admits sockets without a certificate.
      if (m.token) reply.header('www-authenticate', REALM);
      return refuse(
        request,
        clientIp,
        'unauthenticated',
        m.token
          ? `a bearer token${m.certificate ? ' or a client certificate' : ''} is required`
          : 'a client certificate from the configured CA is required on this route',
        'no credentials',
      );
    }

    if (!m.token || o.token === undefined) {
      return refuse(
        request,
        clientIp,
        'credential_not_accepted',
        'this route accepts client certificates only: remove the Authorization header',
        'bearer token not accepted on this route',
        verified ? { socket } : {},
      );
    }
    if (verified) {
      return refuse(
        request,
        clientIp,
        'credentials_conflict',
        'send either a client certificate or a bearer token, not both',
        'client certificate and bearer token both presented',
        { socket },
      );
    }
    const token = BEARER.exec(authorization)?.[1];
    if (token === undefined) {
      reply.header('www-authenticate', `${REALM}, error="invalid_request"`);
      return refuse(
        request,
        clientIp,
        'token_invalid',
        'the Authorization header must be "Bearer <access token>"',
        'malformed Authorization header',
      );
    }
    return o.token(token).catch((err: unknown) => {
      const r =
        err instanceof TokenRefusal
          ? err
          : new TokenRefusal('token_invalid', 'token cannot be verified', null, { cause: err });
      if (r.statusCode === 401) reply.header('www-authenticate', `${REALM}, error="invalid_token"`);
      return refuse(request, clientIp, r.code, r.message, r.reason, {
        issuer: r.claimedIssuer,
        decision: r.statusCode >= 500 ? 'error' : 'deny',
      });
    });
  };
}
