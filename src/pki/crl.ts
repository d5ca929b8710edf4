// Certificate revocation lists (IAM 1.1): written with @peculiar/x509's
// X509CrlGenerator, PEM label "X509 CRL" (the label OpenSSL, and so
// node:tls, expects). A file may hold one CRL per CA.

import { x509 } from './x509.js';
import { signerOf, type Issuer } from './issue.js';

/**
 * How long a CRL written by the CLI stays valid. OpenSSL refuses every client
 * of a CA whose CRL has expired (fail closed); `vulnvault pki crl` re-signs it.
 */
export const CRL_VALIDITY_MS = 365 * 86_400_000;

const BLOCK = /-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g;

export interface RevokedEntry {
  /** Hex serial number as the certificate carries it. */
  serial: string;
  revokedAt: Date;
}

/** "00AB12" and "ab12" name the same serial: upper case, no leading zeros. */
export function normalizeSerial(hex: string): string {
  return hex.toUpperCase().replace(/^0+(?=.)/, '');
}

export function splitCrlPem(pem: string): string[] {
  return pem.match(BLOCK) ?? [];
}

/** Parses every CRL in a PEM file; throws on a block that is not a CRL. */
export function parseCrls(pem: string): x509.X509Crl[] {
  return splitCrlPem(pem).map((b) => new x509.X509Crl(b));
}

/** Serials revoked by any CRL in the file (normalized). */
export function revokedSerials(crls: readonly x509.X509Crl[]): Set<string> {
  const out = new Set<string>();
  for (const crl of crls) for (const e of crl.entries) out.add(normalizeSerial(e.serialNumber));
  return out;
}

/** A CRL for `ca` listing `entries`, valid until nextUpdate. */
export async function createCrl(
  ca: Issuer,
  entries: readonly RevokedEntry[],
  nextUpdate: Date,
): Promise<string> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const { signingKey, crypto } = await signerOf(ca);
  const crl = await x509.X509CrlGenerator.create(
    {
      issuer: caCert.subjectName,
      thisUpdate: new Date(Date.now() - 60_000),
      nextUpdate,
      entries: entries.map((e) => ({ serialNumber: e.serial, revocationDate: e.revokedAt })),
      signingKey,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [await x509.AuthorityKeyIdentifierExtension.create(caCert)],
    },
    crypto,
  );
  return `${x509.PemConverter.encode(crl.rawData, 'X509 CRL').trimEnd()}\n`;
}

/** Entries of the CRL issued by `ca` in an existing file (empty when none). */
export function entriesFor(ca: Issuer, pem: string): RevokedEntry[] {
  const caCert = new x509.X509Certificate(ca.certPem);
  const crl = parseCrls(pem).find((c) => c.issuer === caCert.subject);
  return (crl?.entries ?? []).map((e) => ({ serial: e.serialNumber, revokedAt: e.revocationDate }));
}
