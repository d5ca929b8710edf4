// The key-admin Ed25519 key (DP 1.2 key-admin separation). Its private half
// signs every keyring change and the key-admin audit log's checkpoints; it is
// written outside the data directory and nothing the server reads names it.
// The server only holds the public half (keys.adminPublicKey) to verify.

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { KeyringError } from './keyring-error.js';

/** Default place of the admin key: beside the data directory, never in it. */
export function defaultAdminKeyFile(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, '')}.key-admin/key-admin.pem`;
}

/** Creates the pair, or reuses an existing private key at privateFile. */
export function createAdminKey(privateFile: string, publicFile: string): KeyObject {
  let privateKey: KeyObject;
  if (existsSync(privateFile)) {
    privateKey = loadAdminKey(privateFile);
  } else {
    privateKey = generateKeyPairSync('ed25519').privateKey;
    mkdirSync(dirname(privateFile), { recursive: true, mode: 0o700 });
    writeFileSync(privateFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
      mode: 0o600,
    });
  }
  mkdirSync(dirname(publicFile), { recursive: true, mode: 0o700 });
  writeFileSync(publicFile, createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }), {
    mode: 0o644,
  });
  return privateKey;
}

export function loadAdminKey(privateFile: string): KeyObject {
  let mode: number;
  try {
    mode = statSync(privateFile).mode & 0o777;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new KeyringError(
      code === 'ENOENT'
        ? `no key-admin key at ${privateFile}: key administration needs it (--admin-key FILE); the server does not hold it`
        : `cannot read the key-admin key ${privateFile}: ${code ?? 'error'}`,
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new KeyringError(
      `the key-admin key ${privateFile} is readable by others (mode ${mode.toString(8)}); chmod 600 it`,
    );
  }
  try {
    const k = createPrivateKey(readFileSync(privateFile));
    if (k.asymmetricKeyType !== 'ed25519') throw new Error('not ed25519');
    return k;
  } catch {
    throw new KeyringError(`the key-admin key ${privateFile} is not an Ed25519 private key`);
  }
}

export function loadAdminPublicKey(publicFile: string): KeyObject {
  try {
    return createPublicKey(readFileSync(publicFile));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new KeyringError(
      code === 'ENOENT'
        ? `no key-admin public key at ${publicFile}: run 'vulnvault keys init'`
        : `the key-admin public key ${publicFile} is not a valid public key`,
    );
  }
}

/** SHA-256 of the public key (SPKI DER), to name the admin in audit records. */
export function adminKeyFingerprint(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(pub.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}
