// Certificate enrolment over EST (RFC 7030), the transport-neutral part: what
// /.well-known/est/cacerts, /simpleenroll and /simplereenroll answer, given
// the request body and who is asking. The edge (src/edge/est-routes.ts) adds
// HTTP, authentication, throttling and the authorization log.
//
//   cacerts        the CA certificate as a certs-only PKCS#7, base64
//   simpleenroll   a base64 PKCS#10 CSR + a one-time enrolment token: the
//                  certificate gets the OU and CN the token was made for
//   simplereenroll a CSR from the holder of a valid, unrevoked certificate
//                  (mutual TLS): the new certificate keeps the subject; a CSR
//                  for another subject or another key type is refused
//
// The private key never leaves the client: the CSR carries the public key and
// proves possession by its signature, which is verified. The key must meet
// the edge's key-strength rules. The certificate's subject, usage and
// lifetime are the issuer's (pki.clientCertTtl), never the request's: only
// the public key is taken from the CSR.

import { createPublicKey, type X509Certificate as NodeCert } from 'node:crypto';
import { VaultError } from '../core/errors.js';
import { weakPublicKeyReason } from '../edge/key-strength.js';
import type { EnrolStore, TokenRefusal } from './enrol-store.js';
import { certificateFor, type Issuer } from './issue.js';
import { normalizeSerial } from './crl.js';
import { x509 } from './x509.js';

const OID_CN = '2.5.4.3';
const OID_OU = '2.5.4.11';
const OID_O = '2.5.4.10';
/** A CSR is a few hundred bytes; 16 KiB leaves room for RSA 4096 and attributes. */
export const CSR_MAX_BYTES = 16 * 1024;

export interface Issued {
  /** base64 certs-only PKCS#7 (application/pkcs7-mime; smime-type=certs-only) */
  pkcs7: string;
  certPem: string;
  serial: string;
  subject: string;
  notAfter: string;
  ou: string;
  cn: string;
}

export interface EstServiceOptions {
  /** The CA certificate (PEM), for cacerts. */
  caCertPem: () => string;
  /** Runs `fn` with the CA (ca-source.ts: a PEM key, or a key in a token). */
  withCa: <T>(fn: (ca: Issuer) => Promise<T>) => Promise<T>;
  store: EnrolStore;
  /** Lifetime of issued client certificates. */
  ttlMs: number;
  minRsaBits: number;
  /** The revoked serials now (read fresh: issuance must see a revocation made a moment ago). */
  revoked: () => ReadonlySet<string>;
  /** O of issued certificates, as `pki issue` sets it. */
  organisation: string;
}

export interface EstService {
  cacerts(): string;
  enroll(body: string, token: string): Promise<Issued & { tokenId: string }>;
  reenroll(body: string, current: NodeCert): Promise<Issued & { parent: string }>;
}

const TOKEN_MESSAGES: Record<TokenRefusal, string> = {
  malformed: 'the enrolment token is not a vulnvault enrolment token (vvenr_…)',
  unknown: 'the enrolment token is not known to this server',
  used: 'the enrolment token has been used already; ask for a new one (vulnvault pki enroll-token)',
  expired: 'the enrolment token has expired; ask for a new one (vulnvault pki enroll-token)',
  revoked: 'the enrolment token was revoked',
};

/** base64 DER (RFC 7030 §4.2.1), whitespace allowed; also a PEM CSR, which some tools send. */
export function parseCsr(body: string): x509.Pkcs10CertificateRequest {
  if (body.length === 0)
    throw new VaultError('csr_invalid', 'the request body is empty: send a base64 PKCS#10 CSR');
  if (body.length > CSR_MAX_BYTES) {
    throw new VaultError('csr_invalid', `a CSR may be at most ${CSR_MAX_BYTES} bytes`);
  }
  const text = body.replace(/-----(BEGIN|END) (NEW )?CERTIFICATE REQUEST-----/g, '');
  const b64 = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) {
    throw new VaultError('csr_invalid', 'the CSR must be base64-encoded DER (RFC 7030 §4.2.1)');
  }
  try {
    return new x509.Pkcs10CertificateRequest(Buffer.from(b64, 'base64'));
  } catch {
    throw new VaultError('csr_invalid', 'the body is not a PKCS#10 certificate request');
  }
}

/** Subject fields of a CSR or certificate name, each as a list (read from the DER). */
function fields(name: x509.Name): { cn: string[]; ou: string[]; o: string[]; count: number } {
  const all = name.toJSON().flatMap((rdn) => Object.keys(rdn).map((k) => k));
  return {
    cn: name.getField(OID_CN),
    ou: name.getField(OID_OU),
    o: name.getField(OID_O),
    count: all.length,
  };
}

async function checkedKey(csr: x509.Pkcs10CertificateRequest, minRsaBits: number) {
  // Strength first: a key on a curve Web Crypto does not know (secp256k1)
  // cannot be verified, and "too weak" is the answer that helps.
  let key;
  try {
    key = createPublicKey({
      key: Buffer.from(csr.publicKey.rawData),
      format: 'der',
      type: 'spki',
    });
  } catch {
    throw new VaultError('csr_invalid', 'the CSR public key cannot be read');
  }
  const weak = weakPublicKeyReason(key, minRsaBits);
  if (weak !== undefined) {
    throw new VaultError('csr_key_weak', weak.replace(/^client key/, 'the CSR key'));
  }
  let ok = false;
  try {
    ok = await csr.verify();
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new VaultError(
      'csr_invalid',
      'the CSR signature does not verify (it must be signed by the key it carries)',
    );
  }
  return key;
}

const keyKind = (k: ReturnType<typeof createPublicKey>) =>
  `${k.asymmetricKeyType ?? '?'}/${k.asymmetricKeyDetails?.namedCurve ?? k.asymmetricKeyDetails?.modulusLength ?? ''}`;

export function pkcs7Of(certPems: readonly string[]): string {
  const certs = new x509.X509Certificates(certPems.map((p) => new x509.X509Certificate(p)));
  return certs.export('base64');
}

export function createEstService(o: EstServiceOptions): EstService {
  const issue = async (
    csr: x509.Pkcs10CertificateRequest,
    subject: { cn: string; ou: string; o: string },
  ): Promise<Issued> => {
    const notBefore = new Date(Date.now() - 60_000);
    const certPem = await o.withCa((ca) =>
      certificateFor(
        ca,
        {
          kind: 'client',
          subject: { cn: subject.cn, ou: [subject.ou], o: subject.o },
          notBefore,
          notAfter: new Date(notBefore.getTime() + o.ttlMs),
        },
        csr.publicKey,
      ),
    );
    const cert = new x509.X509Certificate(certPem);
    return {
      pkcs7: pkcs7Of([certPem]),
      certPem,
      // Upper-case hex, as node:crypto and the other authorization records give it.
      serial: cert.serialNumber.toUpperCase(),
      subject: cert.subject,
      notAfter: cert.notAfter.toISOString(),
      ou: subject.ou,
      cn: subject.cn,
    };
  };

  return {
    cacerts: () => pkcs7Of([o.caCertPem()]),

    async enroll(body, token) {
      const csr = parseCsr(body);
      await checkedKey(csr, o.minRsaBits);
      const r = await o.store.redeem(token, async (grant) => {
        // The subject is the token's. A CSR may leave it empty; if it names
        // one, it must be exactly the token's CN and OU (and at most an O).
        const f = fields(csr.subjectName);
        if (f.count > 0) {
          const extra = f.count - f.cn.length - f.ou.length - f.o.length;
          if (
            extra !== 0 ||
            f.cn.length !== 1 ||
            f.cn[0] !== grant.cn ||
            f.ou.length > 1 ||
            (f.ou.length === 1 && f.ou[0] !== grant.ou)
          ) {
            throw new VaultError(
              'csr_not_allowed',
              `this token enrols OU=${grant.ou}, CN=${grant.cn} only; the CSR asks for another subject (leave it empty or use exactly that one)`,
            );
          }
        }
        const issued = await issue(csr, { cn: grant.cn, ou: grant.ou, o: o.organisation });
        o.store.recordIssued({
          serial: issued.serial,
          parent: null,
          subject: issued.subject,
          notAfter: issued.notAfter,
          via: 'simpleenroll',
        });
        return { ...issued, tokenId: grant.id };
      });
      if (!r.ok) throw new VaultError('enrollment_token_invalid', TOKEN_MESSAGES[r.reason]);
      return r.value;
    },

    async reenroll(body, current) {
      const csr = parseCsr(body);
      const key = await checkedKey(csr, o.minRsaBits);
      const old = new x509.X509Certificate(current.raw);
      // Same subject: the same CN, OU and O values and nothing else, compared
      // as values (an EST client may encode them as PrintableString where
      // the certificate has UTF8String).
      const want = fields(old.subjectName);
      const got = fields(csr.subjectName);
      const same = (a: string[], b: string[]) =>
        a.length === b.length && a.every((v, k) => v === b[k]);
      if (
        got.count !== want.count ||
        !same(got.cn, want.cn) ||
        !same(got.ou, want.ou) ||
        !same(got.o, want.o)
      ) {
        throw new VaultError(
          'csr_not_allowed',
          'a re-enrolment keeps the subject: the CSR must name exactly the subject of the current certificate',
        );
      }
      if (keyKind(key) !== keyKind(current.publicKey)) {
        throw new VaultError(
          'csr_not_allowed',
          `a re-enrolment keeps the key type (${keyKind(current.publicKey)}); the CSR has ${keyKind(key)}`,
        );
      }
      const f = fields(old.subjectName);
      const parent = current.serialNumber;
      return o.store.locked(async () => {
        // Inside the issuance lock that `pki revoke` also takes: a revocation
        // either is in the CRL read here, or comes after and revokes this
        // new certificate with its parent (EnrolStore.lineage).
        if (o.revoked().has(normalizeSerial(parent))) {
          throw new VaultError(
            'certificate_identity_invalid',
            'the current certificate is revoked',
          );
        }
        const issued = await issue(csr, {
          cn: f.cn[0] ?? '',
          ou: f.ou[0] ?? '',
          o: f.o[0] ?? o.organisation,
        });
        o.store.recordIssued({
          serial: issued.serial,
          parent,
          subject: issued.subject,
          notAfter: issued.notAfter,
          via: 'simplereenroll',
        });
        return { ...issued, parent };
      });
    },
  };
}
