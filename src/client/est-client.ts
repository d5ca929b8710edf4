// The client side of EST (RFC 7030) enrolment and renewal (issue 15). A
// client certificate directory holds:
//
//   client.crt, client.key  → current/client.crt, current/client.key (symlinks)
//   current                 → gen-<time>-<random>/ (a symlink, swapped by rename)
//   ca.crt                  the CA that signs the server and the client certificates
//   est.json                the server URL ({"url": "https://host:port"})
//
// The key pair is generated here and never sent anywhere: the server gets a
// CSR. A renewal writes the new key and certificate into a new generation
// directory (0700, key 0600) and then replaces the `current` link with one
// rename, so the key and the certificate change together: a reader never
// sees a new key with an old certificate. The previous generation is removed
// afterwards.

import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { newKeyPair } from '../pki/issue.js';
import { renewalDue } from '../pki/renewal.js';
import { x509 } from '../pki/x509.js';

export const CERT_FILE = 'client.crt';
export const KEY_FILE = 'client.key';
export const CA_FILE = 'ca.crt';
export const META_FILE = 'est.json';

export class EstClientError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'EstClientError';
  }
}

export interface CertDir {
  dir: string;
  url: string;
  ca: string;
  cert: string;
  key: string;
}

export function readCertDir(dir: string): CertDir {
  const read = (f: string) => {
    try {
      return readFileSync(join(dir, f), 'utf8');
    } catch (err) {
      throw new EstClientError(
        `cannot read ${join(dir, f)}: ${(err as NodeJS.ErrnoException).code ?? 'error'} (enrol first: vulnvault cert enroll)`,
      );
    }
  };
  let url: string;
  try {
    url = (JSON.parse(read(META_FILE)) as { url: string }).url;
  } catch (err) {
    if (err instanceof EstClientError) throw err;
    throw new EstClientError(`${join(dir, META_FILE)} is not valid JSON`);
  }
  return { dir, url, ca: read(CA_FILE), cert: read(CERT_FILE), key: read(KEY_FILE) };
}

/** The CSR: P-256, signed by its own key; `subject` empty lets the token decide. */
async function csrFor(subject: x509.Name | undefined) {
  const { keys, keyPem } = await newKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    ...(subject ? { name: subject } : {}),
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  return { csrB64: Buffer.from(csr.rawData).toString('base64'), keyPem };
}

interface Post {
  url: string;
  path: string;
  ca: string;
  body: string;
  authorization?: string;
  cert?: string;
  key?: string;
}

function post(p: Post): Promise<string> {
  const u = new URL(p.path, p.url);
  return new Promise((resolve, reject) => {
    const req = request(
      u,
      {
        method: 'POST',
        ca: p.ca,
        ...(p.cert !== undefined ? { cert: p.cert, key: p.key } : {}),
        minVersion: 'TLSv1.2',
        headers: {
          'content-type': 'application/pkcs10',
          'content-length': Buffer.byteLength(p.body),
          ...(p.authorization !== undefined ? { authorization: p.authorization } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode === 200) return resolve(text);
          let code: string | undefined;
          let message = text.slice(0, 300);
          try {
            const e = JSON.parse(text) as { code?: string; message?: string };
            code = e.code;
            message = e.message ?? message;
          } catch {
            // not the catalog's JSON error body
          }
          reject(
            new EstClientError(
              `the server refused: HTTP ${res.statusCode ?? '?'}${code ? ` ${code}` : ''}: ${message}`,
              res.statusCode,
              code,
            ),
          );
        });
        res.on('error', reject);
      },
    );
    req.on('error', (err) =>
      reject(new EstClientError(`cannot reach ${u.origin}: ${err.message}`)),
    );
    req.end(p.body);
  });
}

/** The first certificate of a base64 certs-only PKCS#7. */
function certFromPkcs7(b64: string): string {
  let certs: x509.X509Certificates;
  try {
    certs = new x509.X509Certificates(Buffer.from(b64.replace(/\s+/g, ''), 'base64'));
  } catch {
    throw new EstClientError('the server answered something that is not a PKCS#7 certificate');
  }
  const first = certs[0];
  if (!first) throw new EstClientError('the server answered a PKCS#7 with no certificate');
  return `${first.toString('pem').trimEnd()}\n`;
}

/** Writes a new generation and swaps `current` to it in one rename. */
export function installGeneration(dir: string, certPem: string, keyPem: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const gen = `gen-${Date.now()}-${randomBytes(4).toString('hex')}`;
  mkdirSync(join(dir, gen), { mode: 0o700 });
  writeFileSync(join(dir, gen, KEY_FILE), keyPem, { mode: 0o600 });
  writeFileSync(join(dir, gen, CERT_FILE), certPem, { mode: 0o644 });
  const current = join(dir, 'current');
  const tmp = join(dir, `.current-${gen}`);
  symlinkSync(gen, tmp);
  renameSync(tmp, current);
  for (const f of [CERT_FILE, KEY_FILE]) {
    if (!existsSync(join(dir, f))) symlinkSync(join('current', f), join(dir, f));
  }
  // Older generations go; the one just replaced too (nothing reads it now
  // but a reader that opened it already, which keeps its descriptor).
  for (const e of readdirSync(dir)) {
    if (e.startsWith('gen-') && e !== gen) {
      rmSync(join(dir, e), { recursive: true, force: true });
    }
  }
}

export interface EnrollOptions {
  url: string;
  token: string;
  /** PEM of the CA the server's certificate must chain to (given out of band, like the token). */
  ca: string;
  dir: string;
  /** Optional subject for the CSR; the token decides it anyway. */
  cn?: string;
  ou?: string;
}

export async function enroll(o: EnrollOptions): Promise<{ serial: string; notAfter: Date }> {
  const subject =
    o.cn !== undefined
      ? new x509.Name([
          ...(o.ou !== undefined ? [{ '2.5.4.11': [o.ou] }] : []),
          { '2.5.4.3': [o.cn] },
        ])
      : undefined;
  const { csrB64, keyPem } = await csrFor(subject);
  const p7 = await post({
    url: o.url,
    path: '/.well-known/est/simpleenroll',
    ca: o.ca,
    body: csrB64,
    authorization: `Basic ${Buffer.from(`vulnvault:${o.token}`).toString('base64')}`,
  });
  const certPem = certFromPkcs7(p7);
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(o.dir, CA_FILE), o.ca, { mode: 0o644 });
  writeFileSync(join(o.dir, META_FILE), `${JSON.stringify({ url: o.url })}\n`, { mode: 0o644 });
  installGeneration(o.dir, certPem, keyPem);
  const c = new x509.X509Certificate(certPem);
  return { serial: c.serialNumber, notAfter: c.notAfter };
}

export type RenewResult =
  | { renewed: false; dueAt: Date; notAfter: Date }
  | { renewed: true; serial: string; notAfter: Date };

/** Renews over simplereenroll when a third of the lifetime is left (or `force`). */
export async function renewIfDue(dir: string, force = false): Promise<RenewResult> {
  const cd = readCertDir(dir);
  const due = renewalDue(cd.cert);
  if (!force && !due.due) {
    return { renewed: false, dueAt: new Date(due.dueAt), notAfter: new Date(due.notAfter) };
  }
  if (Date.now() >= due.notAfter) {
    throw new EstClientError(
      `the certificate in ${dir} expired at ${new Date(due.notAfter).toISOString()}; it cannot renew itself: enrol again with a new token`,
    );
  }
  const current = new x509.X509Certificate(cd.cert);
  const { csrB64, keyPem } = await csrFor(current.subjectName);
  const p7 = await post({
    url: cd.url,
    path: '/.well-known/est/simplereenroll',
    ca: cd.ca,
    body: csrB64,
    cert: cd.cert,
    key: cd.key,
  });
  const certPem = certFromPkcs7(p7);
  installGeneration(dir, certPem, keyPem);
  const c = new x509.X509Certificate(certPem);
  return { renewed: true, serial: c.serialNumber, notAfter: c.notAfter };
}
