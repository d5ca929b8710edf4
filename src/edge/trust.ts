// What the edge currently trusts (IAM 1.1): the client CA bundle, the revoked
// serials from the CRL file, the longest client-certificate lifetime and the
// client key strength (key-strength.ts). The
// TLS reloader swaps in a new snapshot when the files change; checks against
// it run once per connection (the gate) and again on an established
// connection whenever the snapshot changed, so a revocation also reaches
// keep-alive connections and resumed TLS sessions, which OpenSSL does not
// re-verify.

import type { X509Certificate } from 'node:crypto';
import { normalizeSerial } from '../pki/crl.js';
import { MIN_RSA_BITS, weakKeyReason } from './key-strength.js';

export interface TrustSnapshot {
  readonly generation: number;
  readonly trustedCas: readonly X509Certificate[];
  readonly revoked: ReadonlySet<string>;
}

export interface Trust {
  current(): TrustSnapshot;
  replace(trustedCas: readonly X509Certificate[], revoked: ReadonlySet<string>): void;
  /** Why a (chain-verified) client certificate must still be refused, or undefined. */
  refusal(cert: X509Certificate, now?: number): string | undefined;
  readonly maxLifetimeMs: number;
}

export function createTrust(
  trustedCas: readonly X509Certificate[],
  revoked: ReadonlySet<string>,
  maxLifetimeMs: number,
  maxLifetimeText: string,
  minRsaBits: number = MIN_RSA_BITS,
): Trust {
  // Upwards only: the config refuses less; a caller that bypasses it must not weaken the edge.
  if (!(minRsaBits >= MIN_RSA_BITS)) {
    throw new Error(`tls.minClientRsaBits must be at least ${MIN_RSA_BITS}`);
  }
  let snap: TrustSnapshot = { generation: 1, trustedCas, revoked };
  return {
    maxLifetimeMs,
    current: () => snap,
    replace(cas, rev) {
      snap = { generation: snap.generation + 1, trustedCas: cas, revoked: rev };
    },
    refusal(cert, now = Date.now()) {
      if (snap.revoked.has(normalizeSerial(cert.serialNumber))) return 'certificate revoked';
      const notBefore = Date.parse(cert.validFrom);
      const notAfter = Date.parse(cert.validTo);
      if (!(notAfter > now)) return 'certificate expired';
      if (!(notBefore <= now)) return 'certificate not yet valid';
      if (notAfter - notBefore > maxLifetimeMs) {
        return `certificate lifetime exceeds the maximum of ${maxLifetimeText}`;
      }
      return weakKeyReason(cert, minRsaBits);
    },
  };
}
