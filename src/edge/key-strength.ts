// Client keys the edge accepts (IAM 1.1): RSA of at least tls.minClientRsaBits
// (2048 or more), ECDSA on P-256, P-384 or P-521, and Ed25519 (as strong as
// P-256, and with no per-signature nonce to get wrong). Anything else that
// OpenSSL lets through (RSA 1024 at the default security level, Ed448, DSA)
// is refused by name. An allow-list, so a key type nobody here has tested
// (Ed448 included) is refused rather than assumed safe.

import type { KeyObject, X509Certificate } from 'node:crypto';

/** The floor of tls.minClientRsaBits: it can be raised, never lowered. */
export const MIN_RSA_BITS = 2048;

const CURVES: Readonly<Record<string, string>> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

export const ALLOWED_CURVES = Object.values(CURVES).join(', ');

/** Why a client certificate's key is refused, or undefined when it is acceptable. */
export function weakKeyReason(cert: X509Certificate, minRsaBits: number): string | undefined {
  let key: KeyObject;
  try {
    key = cert.publicKey;
  } catch {
    return 'client key cannot be read';
  }
  return weakPublicKeyReason(key, minRsaBits);
}

/** The same rules for a bare public key (an EST enrolment's CSR). */
export function weakPublicKeyReason(key: KeyObject, minRsaBits: number): string | undefined {
  let type: string | undefined;
  let bits: number | undefined;
  let curve: string | undefined;
  try {
    type = key.asymmetricKeyType;
    bits = key.asymmetricKeyDetails?.modulusLength;
    curve = key.asymmetricKeyDetails?.namedCurve;
  } catch {
    return 'client key cannot be read';
  }
  switch (type) {
    case 'rsa':
    case 'rsa-pss':
      return bits !== undefined && bits >= minRsaBits
        ? undefined
        : `client key too weak: RSA ${bits ?? '?'} bits (minimum ${minRsaBits})`;
    case 'ec':
      return curve !== undefined && CURVES[curve] !== undefined
        ? undefined
        : `client key curve not allowed: ${curve ?? 'unknown'} (allowed: ${ALLOWED_CURVES})`;
    case 'ed25519':
      return undefined;
    default:
      return `client key type not allowed: ${type ?? 'unknown'} (allowed: RSA, EC ${ALLOWED_CURVES}, Ed25519)`;
  }
}
