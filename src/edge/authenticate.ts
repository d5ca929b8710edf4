// IAM 1.1 per request: the principal of a connection comes from its verified
// client certificate's DER (src/pki/identity.ts) and is cached per socket.
// The cache entry is re-checked against the trust snapshot whenever that
// changed (a new CRL or CA bundle) and when the certificate expires, so a
// keep-alive connection cannot outlive a revocation or its certificate.

import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { VaultError } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import type { AuditSink } from '../core/ports.js';
import { principalFromCertificate } from '../pki/identity.js';
import type { Trust } from './trust.js';

interface Entry {
  generation: number;
  notAfter: number;
  result: Principal | VaultError;
}

export type Authenticate = (socket: TLSSocket, requestId: string, sourceIp: string) => Principal;

export function createAuthenticator(trust: Trust, audit: AuditSink): Authenticate {
  const cache = new WeakMap<TLSSocket, Entry>();
  // The identity of a certificate, by fingerprint, for the next connection
  // that presents it (resumed sessions, reconnecting clients): parsing the DER
  // and checking the issuer signature is the costly part of a new connection.
  // Only for the same trust snapshot; bounded.
  const known = new Map<string, Entry>();

  const deny = (
    requestId: string,
    sourceIp: string,
    peer: X509Certificate | undefined,
    reason: string,
  ) =>
    audit.authz({
      time: new Date().toISOString(),
      requestId,
      sourceIp,
      principal: {
        id: null,
        type: null,
        name: null,
        ou: null,
        subject: peer?.subject.replaceAll('\n', ', ') ?? null,
        issuer: peer?.issuer.replaceAll('\n', ', ') ?? null,
        serial: peer?.serialNumber ?? null,
        fingerprint256: peer?.fingerprint256.replaceAll(':', '').toLowerCase() ?? null,
      },
      action: 'authenticate',
      org: null,
      decision: 'deny',
      reason,
    });

  return (socket, requestId, sourceIp) => {
    if (socket.authorized !== true) {
      // The connection gate should have destroyed this socket already.
      socket.destroy();
      throw new VaultError(
        'unauthenticated',
        'a client certificate from the configured CA is required',
      );
    }
    const snap = trust.current();
    let e = cache.get(socket);
    if (e === undefined || e.generation !== snap.generation || Date.now() >= e.notAfter) {
      const peer = socket.getPeerX509Certificate();
      const refusal = peer ? trust.refusal(peer) : 'no certificate';
      if (refusal !== undefined) {
        deny(requestId, sourceIp, peer, refusal);
        // The caller closes the connection after this response.
        throw new VaultError('unauthenticated', `the client certificate is refused: ${refusal}`);
      }
      const cert = peer as X509Certificate;
      const fingerprint = cert.fingerprint256;
      const prior = known.get(fingerprint);
      if (prior !== undefined && prior.generation === snap.generation) {
        e = prior;
      } else {
        let result: Principal | VaultError;
        try {
          result = principalFromCertificate(cert, snap.trustedCas);
        } catch (err) {
          result =
            err instanceof VaultError
              ? err
              : new VaultError(
                  'certificate_identity_invalid',
                  'the client certificate cannot be read',
                );
        }
        e = { generation: snap.generation, notAfter: Date.parse(cert.validTo), result };
        if (known.size >= 10_000) known.clear();
        known.set(fingerprint, e);
      }
      cache.set(socket, e);
    }
    if (e.result instanceof VaultError) {
      deny(requestId, sourceIp, socket.getPeerX509Certificate(), e.result.message);
      throw e.result;
    }
    return e.result;
  };
}
