// The CA that signs, wherever its key is: a PEM file (mode 0600, checked on
// every read), or a PKCS#11 token when pki.caKey is a pkcs11: URI, whose key
// never leaves it (token-ca.ts). Opened for one use and closed after it, by
// the CLI (`pki …`) and by the server (EST enrolment, its own renewal).

import { readFileSync } from 'node:fs';
import { isPkcs11Uri } from '../crypto/pkcs11/uri.js';
import { readPemPair } from './dev-pki.js';
import type { Issuer } from './issue.js';
import { PkiError } from './pki-error.js';

/** `keyRef`: a resolved file path, or a pkcs11: URI. */
export async function withCa<T>(
  certFile: string,
  keyRef: string,
  fn: (ca: Issuer) => Promise<T>,
): Promise<T> {
  if (!isPkcs11Uri(keyRef)) return fn(readPemPair(certFile, keyRef, 'the CA'));
  let certPem: string;
  try {
    certPem = readFileSync(certFile, 'utf8');
  } catch (err) {
    throw new PkiError(
      `cannot read the CA certificate ${certFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  const { openTokenCa } = await import('./token-ca.js');
  const ca = await openTokenCa(certPem, keyRef);
  try {
    return await fn(ca);
  } finally {
    ca.close();
  }
}
