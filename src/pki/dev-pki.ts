// Writes the development PKI of `vulnvault init` to disk: private keys are
// created with mode 0600 and never printed or logged.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PkiError } from './pki-error.js';
import { readPrivateKeyFile } from './key-file.js';
import { issueCertificate, type Issuer, type NameParts, type PemPair } from './issue.js';

/**
 * Writes a file by rename, so a running server that reloads it (IAM 1.1 hot
 * rotation) sees the old content or the new, never half of it.
 */
export function writeFileAtomic(file: string, content: string, mode: number): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode, flag: 'w' });
  renameSync(tmp, file);
}

export function writePemPair(certFile: string, keyFile: string, pair: PemPair): void {
  writeFileAtomic(keyFile, pair.keyPem, 0o600);
  writeFileAtomic(certFile, pair.certPem, 0o644);
}

/** A certificate and its private key; the key must be mode 0600 or stricter. */
export function readPemPair(certFile: string, keyFile: string, what: string): PemPair {
  let certPem: string;
  try {
    certPem = readFileSync(certFile, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new PkiError(`cannot read ${what} (${certFile}, ${keyFile}): ${code}`);
  }
  return { certPem, keyPem: readPrivateKeyFile(keyFile, `${what} key`) };
}

export async function issueClientCertificate(
  ca: Issuer,
  subject: NameParts,
  ttlMs: number,
): Promise<PemPair> {
  // notAfter − notBefore is exactly the TTL, so a 24h certificate passes a
  // 24h maximum-lifetime check (notBefore is back-dated for clock skew).
  const notBefore = new Date(Date.now() - 60_000);
  return issueCertificate(ca, {
    kind: 'client',
    subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + ttlMs),
  });
}

/** Client certificate names become file names: keep them plain. */
export function checkClientName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) {
    throw new PkiError(
      `invalid --name '${name}': use letters, digits, '.', '_' or '-' (max 64, not starting with '.')`,
    );
  }
}
