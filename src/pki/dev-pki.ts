// Writes the development PKI of `vulnvault init` to disk: private keys are
// created with mode 0600 and never printed or logged.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CliError } from '../core/cli-error.js';
import { issueCertificate, type NameParts, type PemPair } from './issue.js';

export function writePemPair(certFile: string, keyFile: string, pair: PemPair): void {
  mkdirSync(dirname(certFile), { recursive: true, mode: 0o700 });
  writeFileSync(keyFile, pair.keyPem, { mode: 0o600, flag: 'w' });
  writeFileSync(certFile, pair.certPem, { mode: 0o644, flag: 'w' });
}

export function readPemPair(certFile: string, keyFile: string, what: string): PemPair {
  try {
    return { certPem: readFileSync(certFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new CliError(`cannot read ${what} (${certFile}, ${keyFile}): ${code}`);
  }
}

export async function issueClientCertificate(
  ca: PemPair,
  subject: NameParts,
  ttlMs: number,
): Promise<PemPair> {
  return issueCertificate(ca, { kind: 'client', subject, notAfter: new Date(Date.now() + ttlMs) });
}

/** Client certificate names become file names: keep them plain. */
export function checkClientName(name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) {
    throw new CliError(
      `invalid --name '${name}': use letters, digits, '.', '_' or '-' (max 64, not starting with '.')`,
    );
  }
}
