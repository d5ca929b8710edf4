// The local keyring file: versioned key-encryption keys (KEKs), one of them
// primary. Every change is signed with the key-admin Ed25519 key, which the
// server does not hold; the server verifies the signature against the pinned
// admin public key and loads nothing it cannot verify. `serial` grows with
// every change, so an older (validly signed) keyring cannot be put back.
//
// States, as in KMS: enabled → disabled ⇄ enabled; enabled|disabled →
// pending_deletion (7–30 days, cancellable → disabled) → deleted (material
// gone). Only an enabled version unwraps.

import { randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { KeyringError } from './keyring-error.js';

export const KEYRING_FORMAT = 'vulnvault-keyring/1';

export type KeyState = 'enabled' | 'disabled' | 'pending_deletion' | 'deleted';

export interface KeyVersion {
  version: number;
  state: KeyState;
  createdAt: string;
  /** base64 of 32 bytes; null once deleted. */
  material: string | null;
  deletionDate: string | null;
}

export interface KeyringBody {
  format: typeof KEYRING_FORMAT;
  serial: number;
  primary: number;
  versions: KeyVersion[];
}

export interface Keyring extends KeyringBody {
  signature: string;
}

export function kekId(version: number): string {
  return `local:${version}`;
}

export function versionOfKekId(id: string): number | undefined {
  const m = /^local:(\d{1,9})$/.exec(id);
  return m ? Number(m[1]) : undefined;
}

function payload(body: KeyringBody): Buffer {
  const { format, serial, primary, versions } = body;
  return Buffer.from(
    `vulnvault-keyring-signature/v1\n${JSON.stringify({ format, serial, primary, versions })}`,
  );
}

export function signKeyring(body: KeyringBody, adminKey: KeyObject): Keyring {
  const { format, serial, primary, versions } = body;
  return {
    format,
    serial,
    primary,
    versions,
    signature: sign(null, payload(body), adminKey).toString('base64'),
  };
}

export function newKeyVersion(version: number, at: Date): KeyVersion {
  return {
    version,
    state: 'enabled',
    createdAt: at.toISOString(),
    material: randomBytes(32).toString('base64'),
    deletionDate: null,
  };
}

/** A version whose deletion date has passed counts as deleted, purged or not. */
export function effectiveState(v: KeyVersion, now: Date): KeyState {
  if (v.state === 'pending_deletion' && v.deletionDate && Date.parse(v.deletionDate) <= +now) {
    return 'deleted';
  }
  return v.state;
}

/** Mode check shared by the server and the CLI: 0600, never group/world. */
export function checkKeyringMode(file: string): void {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new KeyringError(
        `no keyring at ${file}: run 'vulnvault keys init' (or 'vulnvault init' for a new directory)`,
      );
    }
    throw new KeyringError(`cannot read the keyring ${file}: ${code ?? 'error'}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new KeyringError(
      `the keyring ${file} is readable by group or others (mode ${mode.toString(8)}); chmod 600 it`,
    );
  }
}

/** Reads and verifies the keyring; throws one clear line when it is not usable. */
export function readKeyring(file: string, adminPublicKey: KeyObject): Keyring {
  checkKeyringMode(file);
  let k: Keyring;
  try {
    k = JSON.parse(readFileSync(file, 'utf8')) as Keyring;
  } catch {
    throw new KeyringError(`the keyring ${file} is not valid JSON`);
  }
  if (
    k?.format !== KEYRING_FORMAT ||
    !Number.isSafeInteger(k.serial) ||
    !Number.isSafeInteger(k.primary) ||
    !Array.isArray(k.versions) ||
    typeof k.signature !== 'string'
  ) {
    throw new KeyringError(`the keyring ${file} is not a ${KEYRING_FORMAT} file`);
  }
  let ok = false;
  try {
    ok = verify(null, payload(k), adminPublicKey, Buffer.from(k.signature, 'base64'));
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new KeyringError(
      `the keyring ${file} is not signed by the key-admin key (keys.adminPublicKey); refusing to use it`,
    );
  }
  if (!k.versions.some((v) => v.version === k.primary)) {
    throw new KeyringError(`the keyring ${file} names a primary version it does not hold`);
  }
  return k;
}

/** Atomic replace: a reader sees the old file or the new one, never half. */
export function writeKeyring(file: string, k: Keyring): void {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(k, null, 2) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
