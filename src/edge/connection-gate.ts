// IAM 1.1 at the socket: a TLS connection whose client certificate did not
// verify against the configured CA and CRL (or that sent none), or that the
// trust snapshot refuses (revoked, expired on a resumed session, lifetime over
// the maximum), is destroyed as soon as the handshake completes, before the
// HTTP parser reads a byte, and the reason is logged. Handshakes that fail
// inside TLS (protocol version, no shared cipher, a client key on a curve
// OpenSSL refuses, timeout) are logged too. Weak client keys that OpenSSL
// accepts (RSA 1024, Ed448) are refused by the trust snapshot, here.
// Requests are also re-checked per request (defence in depth).
// When some route accepts bearer tokens, a socket that presented NO
// certificate is let through to HTTP (credentials.ts then requires a token);
// one that presented a certificate that does not verify is still destroyed.

import type { X509Certificate } from 'node:crypto';
import type { Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { AuditSink, AuthzEvent } from '../core/ports.js';
import { ALLOWED_CURVES } from './key-strength.js';
import type { Trust } from './trust.js';

const REASONS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'certificate expired',
  CERT_NOT_YET_VALID: 'certificate not yet valid',
  UNABLE_TO_GET_ISSUER_CERT: 'unknown CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown CA',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown CA',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown CA',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  INVALID_CA: 'chain contains a non-CA issuer',
  CERT_SIGNATURE_FAILURE: 'bad certificate signature',
  INVALID_PURPOSE: 'certificate not valid for client authentication',
  CERT_REVOKED: 'certificate revoked',
  UNABLE_TO_GET_CRL: 'no CRL for the issuing CA',
  CRL_HAS_EXPIRED: 'CRL expired (run vulnvault pki crl)',
  CRL_NOT_YET_VALID: 'CRL not yet valid',
  CRL_SIGNATURE_FAILURE: 'bad CRL signature',
  KEYUSAGE_NO_CERTSIGN: 'chain contains a non-CA issuer',
  UNSPECIFIED: 'invalid certificate chain',
};

const TLS_ERRORS: Record<string, string> = {
  ERR_SSL_UNSUPPORTED_PROTOCOL: 'TLS version not allowed by the policy',
  ERR_SSL_WRONG_VERSION_NUMBER: 'TLS version not allowed by the policy',
  ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION: 'TLS version not allowed by the policy',
  ERR_SSL_NO_SHARED_CIPHER: 'no shared cipher suite (policy allows ECDHE + AEAD only)',
  ERR_SSL_HTTP_REQUEST: 'plain HTTP sent to the TLS port',
  // TLS 1.2: the client signed with a key on a curve outside tls.ts's ecdhCurve.
  ERR_SSL_WRONG_CURVE: `client key curve not allowed (allowed: ${ALLOWED_CURVES})`,
};

const isEmpty = (o: object | null | undefined) => !o || Object.keys(o).length === 0;

export function handshakeFailureReason(socket: TLSSocket): string {
  const err = socket.authorizationError as unknown as string | Error | null | undefined;
  const code = typeof err === 'string' ? err : (err as { code?: string } | null)?.code;
  const peer = socket.getPeerCertificate();
  if (!peer || Object.keys(peer).length === 0) return 'no certificate';
  return (code && REASONS[code]) ?? `certificate not verified (${code ?? 'unknown'})`;
}

function denied(ip: string, reason: string, cert?: X509Certificate | null): AuthzEvent {
  return {
    time: new Date().toISOString(),
    requestId: null,
    sourceIp: ip,
    principal: {
      id: null,
      type: null,
      name: null,
      ou: null,
      subject: cert ? cert.subject.replaceAll('\n', ', ') : null,
      issuer: cert ? cert.issuer.replaceAll('\n', ', ') : null,
      serial: cert?.serialNumber ?? null,
      fingerprint256: cert ? cert.fingerprint256.replaceAll(':', '').toLowerCase() : null,
    },
    action: 'connect',
    org: null,
    decision: 'deny',
    reason,
  };
}

/** Logs a connection refused before TLS (IP policy, connection limits). */
export function connectionRefused(ip: string, reason: string): AuthzEvent {
  return denied(ip, reason);
}

export function installConnectionGate(
  server: Server,
  audit: AuditSink,
  trust: Trust,
  logger: Logger,
  allowNoCertificate = false,
): void {
  // Deny even when the log cannot be written (disk full): say so in the
  // server log instead of crashing the process from a socket event.
  const log = (event: AuthzEvent) => {
    try {
      audit.authz(event);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'authorization log write failed');
    }
  };
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    // The principal is cached per socket, so the certificate must not change
    // under it: a TLS 1.2 renegotiation could present another one.
    socket.disableRenegotiation();
    const ip = socket.remoteAddress ?? '';
    if (socket.authorized) {
      const cert = socket.getPeerX509Certificate();
      const refusal = cert ? trust.refusal(cert) : 'no certificate';
      if (refusal === undefined) return;
      log(denied(ip, refusal, cert));
      socket.destroy();
      return;
    }
    let cert: X509Certificate | undefined;
    try {
      cert = socket.getPeerX509Certificate();
    } catch {
      cert = undefined;
    }
    if (allowNoCertificate && cert === undefined && isEmpty(socket.getPeerCertificate())) return;
    log(denied(ip, handshakeFailureReason(socket), cert));
    socket.destroy();
  });

  server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
    // A reset is the client (or one of our gates) going away, not a failure.
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return;
    const reason =
      (err.code && TLS_ERRORS[err.code]) ??
      (/handshake timeout/i.test(err.message)
        ? 'TLS handshake timeout'
        : `TLS handshake failed (${err.code ?? 'unknown'})`);
    log(denied(socket.remoteAddress ?? '', reason));
  });
}
