// Client certificates with a chosen key type and size, signed by a test CA
// with the project's PKI library (@peculiar/x509): node:crypto makes the key
// (Web Crypto cannot make RSA 1024, secp256k1, P-192 or Ed448), the CA signs
// its SubjectPublicKeyInfo.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { PemPair } from '../../src/pki/issue.js';
import { webcrypto, x509 } from '../../src/pki/x509.js';

export type KeySpec =
  | { type: 'rsa' | 'rsa-pss'; bits: number }
  | { type: 'ec'; curve: string }
  | { type: 'ed25519' | 'ed448' };

function keyPair(spec: KeySpec) {
  switch (spec.type) {
    case 'rsa':
      return generateKeyPairSync('rsa', { modulusLength: spec.bits });
    case 'rsa-pss':
      return generateKeyPairSync('rsa-pss', { modulusLength: spec.bits });
    case 'ec':
      return generateKeyPairSync('ec', { namedCurve: spec.curve });
    case 'ed25519':
      return generateKeyPairSync('ed25519');
    case 'ed448':
      return generateKeyPairSync('ed448');
  }
}

/** A 1-hour client certificate (OU as given) for a key of `spec`, signed by `ca`. */
export async function clientCertWithKey(ca: PemPair, spec: KeySpec, ou: string): Promise<PemPair> {
  const { publicKey, privateKey } = keyPair(spec);
  const caCert = new x509.X509Certificate(ca.certPem);
  const signingKey = await webcrypto.subtle.importKey(
    'pkcs8',
    x509.PemConverter.decodeFirst(ca.keyPem),
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  );
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: `CN=key-${spec.type}, OU=${ou}, O=vulnvault-demo`,
    issuer: caCert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 3_600_000),
    publicKey: publicKey.export({ type: 'spki', format: 'der' }),
    signingKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
    ],
  });
  return {
    certPem: `${cert.toString('pem').trimEnd()}\n`,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}
