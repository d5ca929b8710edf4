// Issues the development PKI: a root CA, a server certificate and client
// certificates whose single OU is the principal (IAM 1.1). ECDSA P-256 keys:
// small, fast handshakes, accepted by curl, OpenSSL and every TLS stack.

import { randomBytes, type webcrypto as wc } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AttributeTypeAndValue,
  AttributeValue,
  Name as AsnName,
  RelativeDistinguishedName,
} from '@peculiar/asn1-x509';
import { x509, webcrypto } from './x509.js';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface PemPair {
  certPem: string;
  keyPem: string;
}

/**
 * A CA whose key is not a PEM file: a key that only signs (in a PKCS#11
 * token, src/pki/token-ca.ts) and the Web Crypto that signs with it.
 */
export interface KeyIssuer {
  certPem: string;
  signingKey: wc.CryptoKey;
  crypto: X509Crypto;
}

/** The CA that signs: its key in a PEM file, or a key that stays in a token. */
export type Issuer = PemPair | KeyIssuer;

/** The Web Crypto @peculiar/x509 signs with (Node's own, or one whose `sign` goes to a token). */
export type X509Crypto = wc.Crypto;

/** The key and Web Crypto that sign for `issuer`. */
export async function signerOf(
  issuer: Issuer,
): Promise<{ signingKey: wc.CryptoKey; crypto: X509Crypto }> {
  if ('signingKey' in issuer) return { signingKey: issuer.signingKey, crypto: issuer.crypto };
  return {
    signingKey: await importKeyPem(issuer.keyPem),
    crypto: webcrypto,
  };
}

export interface NameParts {
  cn: string;
  o?: string;
  /** Zero, one or several OU values; vulnvault accepts exactly one. */
  ou?: string[];
}

export interface IssueOptions {
  subject: NameParts;
  notBefore?: Date;
  notAfter: Date;
  kind: 'client' | 'server' | 'ca';
  /** Server certificates: DNS names and IP addresses. */
  sans?: string[];
}

async function newKeys(): Promise<wc.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f; // positive INTEGER
  return b.toString('hex');
}

function buildName(parts: NameParts): x509.Name {
  // One RDN per attribute, encoded straight to DER as UTF8String. Values are
  // never joined into a DN string and re-parsed, so a CN like "x, OU=scanner"
  // (or one with quotes or CR/LF) stays exactly one CN value.
  const atv = (type: string, value: string) =>
    new RelativeDistinguishedName([
      new AttributeTypeAndValue({ type, value: new AttributeValue({ utf8String: value }) }),
    ]);
  const rdns: RelativeDistinguishedName[] = [];
  if (parts.o !== undefined) rdns.push(atv('2.5.4.10', parts.o));
  for (const ou of parts.ou ?? []) rdns.push(atv('2.5.4.11', ou));
  rdns.push(atv('2.5.4.3', parts.cn));
  return new x509.Name(AsnConvert.serialize(new AsnName(rdns)));
}

async function exportKeyPem(key: wc.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return `${x509.PemConverter.encode(der, 'PRIVATE KEY').trimEnd()}\n`;
}

async function importKeyPem(pem: string): Promise<wc.CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return webcrypto.subtle.importKey('pkcs8', der, ALG, true, ['sign']);
}

function extensionsFor(opts: IssueOptions): x509.Extension[] {
  const ext: x509.Extension[] = [];
  if (opts.kind === 'ca') {
    ext.push(new x509.BasicConstraintsExtension(true, 0, true));
    ext.push(
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
    );
    return ext;
  }
  ext.push(new x509.BasicConstraintsExtension(false, undefined, true));
  ext.push(new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true));
  ext.push(
    new x509.ExtendedKeyUsageExtension(
      [
        opts.kind === 'server'
          ? x509.ExtendedKeyUsage.serverAuth
          : x509.ExtendedKeyUsage.clientAuth,
      ],
      false,
    ),
  );
  if (opts.sans && opts.sans.length > 0) {
    ext.push(
      new x509.SubjectAlternativeNameExtension(
        opts.sans.map((v) => ({
          type: /^[\d.]+$|:/.test(v) ? ('ip' as const) : ('dns' as const),
          value: v,
        })),
        false,
      ),
    );
  }
  return ext;
}

/** A self-signed root CA. */
export async function createCa(subject: NameParts, notAfter: Date): Promise<PemPair> {
  const keys = await newKeys();
  return {
    certPem: await selfSignedCaCert(subject, notAfter, keys),
    keyPem: await exportKeyPem(keys.privateKey),
  };
}

/** The self-signed certificate of a CA key pair (a token's key with its `crypto`). */
export async function selfSignedCaCert(
  subject: NameParts,
  notAfter: Date,
  keys: wc.CryptoKeyPair,
  crypto: X509Crypto = webcrypto,
): Promise<string> {
  const opts: IssueOptions = { subject, notAfter, kind: 'ca' };
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial(),
      name: buildName(subject),
      notBefore: new Date(Date.now() - 60_000),
      notAfter,
      keys,
      signingAlgorithm: ALG,
      extensions: [
        ...extensionsFor(opts),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return `${cert.toString('pem').trimEnd()}\n`;
}

/**
 * Issues a certificate signed by `issuer`. The issuer is normally the CA;
 * tests also pass a leaf to prove such chains are refused.
 */
export async function issueCertificate(issuer: Issuer, opts: IssueOptions): Promise<PemPair> {
  const keys = await newKeys();
  return {
    certPem: await certificateFor(issuer, opts, keys.publicKey),
    keyPem: await exportKeyPem(keys.privateKey),
  };
}

/**
 * A certificate for a public key the holder generated (an EST enrolment's
 * CSR): the private key never reaches the issuer. Subject, kind and lifetime
 * come from `opts` (the issuer's decision), never from the request.
 */
export async function certificateFor(
  issuer: Issuer,
  opts: IssueOptions,
  publicKey: wc.CryptoKey | x509.PublicKey,
): Promise<string> {
  const issuerCert = new x509.X509Certificate(issuer.certPem);
  const { signingKey, crypto } = await signerOf(issuer);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(),
      subject: buildName(opts.subject),
      issuer: issuerCert.subjectName,
      notBefore: opts.notBefore ?? new Date(Date.now() - 60_000),
      notAfter: opts.notAfter,
      publicKey,
      signingKey,
      signingAlgorithm: ALG,
      extensions: [
        ...extensionsFor(opts),
        await x509.SubjectKeyIdentifierExtension.create(publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(issuerCert),
      ],
    },
    crypto,
  );
  return `${cert.toString('pem').trimEnd()}\n`;
}

/** A new ECDSA P-256 key pair, exportable (the client side of an enrolment). */
export async function newKeyPair(): Promise<{ keys: wc.CryptoKeyPair; keyPem: string }> {
  const keys = await newKeys();
  return { keys, keyPem: await exportKeyPem(keys.privateKey) };
}

export { buildName };

/** "24h", "90m", "30d", "3600s" → milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,6})(s|m|h|d)$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  const ms = Number(m[1]) * unit;
  return ms > 0 ? ms : undefined;
}
