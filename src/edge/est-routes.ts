// EST (RFC 7030) on the local edge: the HTTP side of src/pki/est.ts.
//
//   GET  /.well-known/est/cacerts         anyone who reached the TLS port
//   POST /.well-known/est/simpleenroll    enrolment token as HTTP authentication
//                                          (Basic, the token as password, as EST
//                                          clients send it; or Bearer), no
//                                          client certificate needed
//   POST /.well-known/est/simplereenroll  mutual TLS with the current certificate
//
// Every request passes the request guard first (framing, IP policy, the global
// bucket); the two enrolment routes are then rate-limited per source address
// (simpleenroll) or per certificate principal (simplereenroll) with
// pki.est.perMinute, so tokens cannot be guessed at speed. Every issuance and
// every refusal is in the authorization log (who, serial, subject, expiry),
// never the token. Bodies are base64 PKCS#10 (application/pkcs10) of at most
// CSR_MAX_BYTES; answers are base64 certs-only PKCS#7, errors the catalog's
// JSON body.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TLSSocket } from 'node:tls';
import { VaultError } from '../core/errors.js';
import type { AuditSink, AuthzEvent } from '../core/ports.js';
import { CSR_MAX_BYTES, type EstService, type Issued } from '../pki/est.js';
import { SECURITY_HEADERS } from '../http/security-headers.js';

export const EST_PREFIX = '/.well-known/est';
const PKCS7 = 'application/pkcs7-mime; smime-type=certs-only';

export interface EstRouteOptions {
  service: EstService;
  audit: AuditSink;
  /** Enrolment requests per minute per source address / per principal. */
  perMinute: number;
}

/** A token bucket per key, refilled perMinute/60 per second; bounded in size. */
function limiter(perMinute: number) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (key: string): number => {
    const now = Date.now();
    let b = buckets.get(key);
    if (!b) {
      if (buckets.size > 10_000) buckets.clear();
      b = { tokens: perMinute, at: now };
      buckets.set(key, b);
    }
    b.tokens = Math.min(perMinute, b.tokens + ((now - b.at) / 60_000) * perMinute);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - b.tokens) * 60) / perMinute);
  };
}

/** The token from Authorization: Basic (password; RFC 7030 §3.2.3) or Bearer. */
export function enrolmentToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const bearer = /^Bearer +(\S+) *$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

export function registerEstRoutes(app: FastifyInstance, o: EstRouteOptions): void {
  const perAddress = limiter(o.perMinute);
  const perPrincipal = limiter(o.perMinute);

  app.addContentTypeParser(
    'application/pkcs10',
    { parseAs: 'string', bodyLimit: CSR_MAX_BYTES },
    (_request, body, done) => done(null, body),
  );

  const log = (
    request: FastifyRequest,
    action: 'pki:enroll' | 'pki:reenroll',
    decision: AuthzEvent['decision'],
    reason: string,
    who: {
      ou?: string | null;
      cn?: string | null;
      serial?: string | null;
      subject?: string | null;
    },
  ) =>
    o.audit.authz({
      time: new Date().toISOString(),
      requestId: request.id,
      sourceIp: request.clientIp ?? request.socket.remoteAddress ?? '',
      principal: {
        id: who.cn ?? null,
        type: who.ou ? 'ou' : null,
        name: who.ou ?? null,
        ou: who.ou ?? null,
        subject: who.subject ?? null,
        issuer: null,
        serial: who.serial ?? null,
        fingerprint256: null,
      },
      action,
      org: null,
      decision,
      reason,
    });

  const limited = (reply: FastifyReply, wait: number, what: string): void => {
    if (wait === 0) return;
    reply.header('retry-after', String(wait));
    throw new VaultError(
      'rate_limited',
      `over the enrolment rate of ${o.perMinute} per minute ${what}; retry after ${wait} s`,
    );
  };
  const send = (reply: FastifyReply, issued: Issued) =>
    reply
      .code(200)
      .header('content-type', PKCS7)
      .header('content-transfer-encoding', 'base64')
      .send(issued.pkcs7);
  const mustBeCsr = (request: FastifyRequest) => {
    const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/pkcs10') {
      throw new VaultError(
        'unsupported_media_type',
        'send the CSR as Content-Type: application/pkcs10 (base64 DER)',
      );
    }
  };
  const issuedReason = (i: Issued) =>
    `certificate issued: serial ${i.serial}, subject ${i.subject.replaceAll('\n', ', ')}, expires ${i.notAfter}`;
  const enrolment = { enrolment: true } as const;

  app.get(`${EST_PREFIX}/cacerts`, { config: enrolment }, (_request, reply) =>
    reply
      .code(200)
      .headers(SECURITY_HEADERS)
      .header('content-type', PKCS7)
      .header('content-transfer-encoding', 'base64')
      .send(o.service.cacerts()),
  );

  app.post(`${EST_PREFIX}/simpleenroll`, { config: enrolment }, async (request, reply) => {
    const ip = request.clientIp ?? request.socket.remoteAddress ?? '';
    limited(reply, perAddress(ip), 'from one address');
    const token = enrolmentToken(request.headers.authorization);
    if (token === undefined) {
      reply.header('www-authenticate', 'Basic realm="vulnvault-est"');
      log(request, 'pki:enroll', 'deny', 'no enrolment token', {});
      throw new VaultError(
        'enrollment_token_invalid',
        'an enrolment token is required: Authorization: Basic (the token as password) or Bearer',
      );
    }
    mustBeCsr(request);
    try {
      const issued = await o.service.enroll(
        typeof request.body === 'string' ? request.body : '',
        token,
      );
      log(request, 'pki:enroll', 'allow', `${issuedReason(issued)}; token ${issued.tokenId}`, {
        ou: issued.ou,
        cn: issued.cn,
        serial: issued.serial,
        subject: issued.subject,
      });
      return send(reply, issued);
    } catch (err) {
      const reason = err instanceof VaultError ? `${err.code}: ${err.message}` : 'error';
      log(request, 'pki:enroll', err instanceof VaultError ? 'deny' : 'error', reason, {});
      throw err;
    }
  });

  app.post(
    `${EST_PREFIX}/simplereenroll`,
    // Client certificates only, whatever auth.methods says for the API.
    { config: { auth: { certificate: true, token: false } } },
    async (request, reply) => {
      const p = request.principal as NonNullable<FastifyRequest['principal']>;
      const current = (request.socket as TLSSocket).getPeerX509Certificate();
      const who = { ou: p.ref.name, cn: p.id, serial: p.certificate?.serial ?? null };
      if (!current || !p.certificate) {
        log(request, 'pki:reenroll', 'deny', 'no client certificate', who);
        throw new VaultError(
          'unauthenticated',
          'a re-enrolment needs the current client certificate (mutual TLS)',
        );
      }
      limited(reply, perPrincipal(`${p.ref.name}\n${p.id}`), 'for one identity');
      mustBeCsr(request);
      try {
        const issued = await o.service.reenroll(
          typeof request.body === 'string' ? request.body : '',
          current,
        );
        log(request, 'pki:reenroll', 'allow', `${issuedReason(issued)}; renews ${issued.parent}`, {
          ...who,
          subject: issued.subject,
        });
        return send(reply, issued);
      } catch (err) {
        const reason = err instanceof VaultError ? `${err.code}: ${err.message}` : 'error';
        log(request, 'pki:reenroll', err instanceof VaultError ? 'deny' : 'error', reason, who);
        throw err;
      }
    },
  );
}
