// The Ed25519 key that signs audit checkpoints. The private key stays with
// the server (mode 0600; refused if group- or world-readable); the public key
// is what `audit verify` needs, and what to copy off the host.

import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AuditError } from './audit-error.js';

export function createSigningKey(privateFile: string, publicFile: string): void {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  mkdirSync(dirname(privateFile), { recursive: true, mode: 0o700 });
  writeFileSync(privateFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(publicFile, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
}

export function loadSigningKey(privateFile: string): KeyObject {
  let mode: number;
  try {
    mode = statSync(privateFile).mode & 0o777;
  } catch (err) {
    throw new AuditError(
      `cannot read the audit signing key ${privateFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new AuditError(
      `the audit signing key ${privateFile} is readable by others (mode ${mode.toString(8)}); chmod 600 it`,
    );
  }
  try {
    return createPrivateKey(readFileSync(privateFile));
  } catch {
    throw new AuditError(`the audit signing key ${privateFile} is not a valid private key`);
  }
}

export function loadVerifyKey(publicFile: string): KeyObject {
  if (!existsSync(publicFile)) {
    throw new AuditError(`no audit verify key at ${publicFile}`);
  }
  try {
    return createPublicKey(readFileSync(publicFile));
  } catch {
    throw new AuditError(`the audit verify key ${publicFile} is not a valid public key`);
  }
}
