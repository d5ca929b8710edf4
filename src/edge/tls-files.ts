// Reads the TLS files named in the config into what the listener needs: the
// secure-context options, the trusted CAs (for the identity check) and the
// revoked serials. Used at start and by the reloader; every failure is one
// clear message naming the file. The server key must be mode 0600 or
// stricter (src/pki/key-file.ts), at start and on every reload.

import { createSecureContext, type TlsOptions } from 'node:tls';
import { readFileSync } from 'node:fs';
import type { X509Certificate } from 'node:crypto';
import type { TlsPolicy } from '../config/config.js';
import { parseCrls, revokedSerials, splitCrlPem } from '../pki/crl.js';
import { loadCaBundle } from '../pki/identity.js';
import { readPrivateKeyFile } from '../pki/key-file.js';
import { tlsOptions } from './tls.js';

export interface TlsFiles {
  cert: string;
  key: string;
  clientCa: string;
  crl: string;
}

export interface LoadedTls {
  options: TlsOptions;
  trustedCas: X509Certificate[];
  revoked: Set<string>;
  /** Whether a CRL file was found (a missing file means: nothing revoked yet). */
  hasCrl: boolean;
}

function read(file: string, what: string, optional = false): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    if (optional && code === 'ENOENT') return undefined;
    throw new Error(`cannot read ${what} ${file}: ${code}`);
  }
}

export function loadTls(policy: TlsPolicy, files: TlsFiles): LoadedTls {
  const cert = read(files.cert, 'server certificate') as string;
  const key = readPrivateKeyFile(files.key, 'server key');
  const clientCa = read(files.clientCa, 'client CA bundle') as string;
  const crlPem = read(files.crl, 'CRL', true);
  const trustedCas = loadCaBundle(clientCa);
  if (trustedCas.length === 0) {
    throw new Error(`client CA bundle ${files.clientCa} contains no certificate`);
  }
  let revoked = new Set<string>();
  let crl: string[] = [];
  if (crlPem !== undefined) {
    try {
      revoked = revokedSerials(parseCrls(crlPem));
      crl = splitCrlPem(crlPem);
    } catch (err) {
      throw new Error(`CRL ${files.crl} cannot be parsed: ${(err as Error).message}`);
    }
    if (crl.length === 0 && crlPem.trim() !== '') {
      throw new Error(`CRL ${files.crl} holds no 'X509 CRL' PEM block`);
    }
  }
  const options = tlsOptions(policy, { cert, key, clientCa, crl });
  try {
    // Fails here, not inside a handshake, on a key that does not match.
    createSecureContext(options);
  } catch (err) {
    throw new Error(`invalid TLS material: ${(err as Error).message}`);
  }
  return { options, trustedCas, revoked, hasCrl: crlPem !== undefined };
}
