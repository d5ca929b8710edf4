// Turns a verified client certificate into a Principal (IAM 1.1/1.2).
// The subject is read from the certificate's DER, attribute by attribute;
// never by splitting a DN string, which a CN like "x\, OU=scanner" would
// spoof. The immediate issuer must be one of the configured CAs.

import { X509Certificate } from 'node:crypto';
import { VaultError } from '../core/errors.js';
import type { Principal } from '../core/principal.js';
import { x509 } from './x509.js';

const OID_OU = '2.5.4.11';
const OID_CN = '2.5.4.3';
const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** Loads every certificate in a PEM bundle. */
export function loadCaBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

export function principalFromCertificate(
  leaf: X509Certificate,
  trustedCas: readonly X509Certificate[],
): Principal {
  if (leaf.ca) {
    throw new VaultError(
      'certificate_identity_invalid',
      'a CA certificate cannot be used as a client identity',
    );
  }
  // X509Certificate.keyUsage lists the extended key usage OIDs.
  if (!(leaf.keyUsage ?? []).includes(OID_CLIENT_AUTH)) {
    throw new VaultError(
      'certificate_identity_invalid',
      'the client certificate is not valid for client authentication',
    );
  }
  const issuedByTrustedCa = trustedCas.some(
    (ca) => leaf.checkIssued(ca) && leaf.verify(ca.publicKey),
  );
  if (!issuedByTrustedCa) {
    throw new VaultError(
      'certificate_identity_invalid',
      'the client certificate is not issued directly by the configured CA',
    );
  }
  const parsed = new x509.X509Certificate(leaf.raw);
  const ous = parsed.subjectName.getField(OID_OU);
  if (ous.length !== 1) {
    throw new VaultError(
      'certificate_identity_invalid',
      `the client certificate must carry exactly one OU in its subject (found ${ous.length})`,
    );
  }
  const ou = ous[0] as string;
  if (ou.length === 0) {
    throw new VaultError('certificate_identity_invalid', 'the client certificate OU is empty');
  }
  const cn = parsed.subjectName.getField(OID_CN)[0] ?? '';
  return {
    ref: { type: 'ou', name: ou },
    id: cn,
    certificate: {
      subject: parsed.subject,
      issuer: parsed.issuer,
      serial: leaf.serialNumber,
      fingerprint256: leaf.fingerprint256.replaceAll(':', '').toLowerCase(),
      notAfter: new Date(leaf.validTo).toISOString(),
    },
  };
}
