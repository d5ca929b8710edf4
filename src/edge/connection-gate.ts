// IAM 1.1 at the socket: a TLS connection whose client certificate did not
// verify against the configured CA (or that sent none) is destroyed as soon as
// the handshake completes, before the HTTP parser reads a byte, and the reason
// is logged. Requests are also re-checked per request (defence in depth).

import type { Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { AuditSink } from '../core/ports.js';

const REASONS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'certificate expired',
  CERT_NOT_YET_VALID: 'certificate not yet valid',
  UNABLE_TO_GET_ISSUER_CERT: 'no client certificate or unknown CA',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown CA',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown CA',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown CA',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  INVALID_CA: 'chain contains a non-CA issuer',
  CERT_SIGNATURE_FAILURE: 'bad certificate signature',
  INVALID_PURPOSE: 'certificate not valid for client authentication',
  CERT_REVOKED: 'certificate revoked',
  KEYUSAGE_NO_CERTSIGN: 'chain contains a non-CA issuer',
  UNSPECIFIED: 'invalid certificate chain',
};

export function handshakeFailureReason(socket: TLSSocket): string {
  const err = socket.authorizationError as unknown as string | Error | null | undefined;
  const code = typeof err === 'string' ? err : (err as { code?: string } | null)?.code;
  if (socket.getPeerCertificate() && Object.keys(socket.getPeerCertificate()).length === 0) {
    return 'no client certificate';
  }
  return (code && REASONS[code]) ?? `certificate not verified (${code ?? 'unknown'})`;
}

export function installConnectionGate(server: Server, audit: AuditSink, logger: Logger): void {
  server.prependListener('secureConnection', (socket: TLSSocket) => {
    // The principal is cached per socket, so the certificate must not change
    // under it: a TLS 1.2 renegotiation could present another one.
    socket.disableRenegotiation();
    if (socket.authorized) return;
    try {
      logRefusal(socket, audit);
    } catch (err) {
      // Deny even when the log cannot be written; say so in the server log.
      logger.error({ err: (err as Error).message }, 'authorization log write failed');
    }
    socket.destroy();
  });
}

function logRefusal(socket: TLSSocket, audit: AuditSink): void {
  const peer = socket.getPeerCertificate();
  audit.authz({
    time: new Date().toISOString(),
    requestId: null,
    sourceIp: socket.remoteAddress ?? '',
    principal: {
      id: peer?.subject?.CN ? String(peer.subject.CN) : null,
      ou: null,
      subject: null,
      issuer: null,
      serial: peer?.serialNumber ?? null,
      fingerprint256: peer?.fingerprint256
        ? peer.fingerprint256.replaceAll(':', '').toLowerCase()
        : null,
    },
    action: 'connect',
    org: null,
    decision: 'deny',
    reason: handshakeFailureReason(socket),
  });
}
