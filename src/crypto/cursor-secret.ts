// The local server's page-cursor secret (CursorKeys for src/functions/query/
// cursor.ts): 32 random bytes in DIR/keys/cursor-secret.json, mode 0600,
// written by `init` (or at the first start of an older directory) and
// replaced by `vulnvault keys rotate-cursor`. It is its own file, not derived
// from the keyring: it must exist with the KMS provider too (no local key
// material there), and rotating it is routine, not a key-admin operation
// (a cursor only says where a page resumes; authorization decides what is
// read). A rotation keeps the previous secret for a grace period
// (`acceptedUntil`), so clients paging through a result are not cut off;
// `--grace 0` drops it at once (a leaked secret). The server looks for a
// changed file at most once per reloadIntervalMs, when cursors are used.

import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  MIN_CURSOR_SECRET_BYTES,
  type CursorKeys,
  type CursorKeySet,
} from '../core/cursor-keys.js';
import { KeyringError } from './keyring-error.js';

export const CURSOR_SECRET_FORMAT = 'vulnvault-cursor-secret/1';
/** Longest grace period a rotation may give the previous secret. */
export const MAX_CURSOR_GRACE_MS = 7 * 86_400_000;

export interface CursorSecretFile {
  format: typeof CURSOR_SECRET_FORMAT;
  /** base64url of the secret; new cursors are tagged with it. */
  current: { secret: string; createdAt: string };
  /** The secret before the last rotation, accepted (never used to tag) until acceptedUntil. */
  previous: { secret: string; createdAt: string; acceptedUntil: string } | null;
}

const newSecret = () => randomBytes(32).toString('base64url');

function write(file: string, body: CursorSecretFile, flag: 'w' | 'wx'): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const text = JSON.stringify(body, null, 2) + '\n';
  if (flag === 'wx') {
    // A new file: never replace one that is already there.
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return;
  }
  // A reader sees the old file or the new one, never half.
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** Writes a new secret file; refuses to replace an existing one. */
export function createCursorSecret(file: string, now = new Date()): void {
  write(
    file,
    {
      format: CURSOR_SECRET_FORMAT,
      current: { secret: newSecret(), createdAt: now.toISOString() },
      previous: null,
    },
    'wx',
  );
}

function secretBytes(file: string, s: unknown): Buffer {
  const b =
    typeof s === 'string' && /^[A-Za-z0-9_-]+$/.test(s) ? Buffer.from(s, 'base64url') : null;
  if (b === null || b.length < MIN_CURSOR_SECRET_BYTES) {
    throw new KeyringError(
      `the cursor secret ${file} holds a secret shorter than ${MIN_CURSOR_SECRET_BYTES} bytes`,
    );
  }
  return b;
}

/** Reads and checks the file (mode 0600, format, secret sizes); one clear line when unusable. */
export function readCursorSecret(file: string): CursorSecretFile {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (err) {
    throw new KeyringError(
      `cannot read the cursor secret ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new KeyringError(
      `the cursor secret ${file} is readable by group or others (mode ${mode.toString(8)}); chmod 600 it`,
    );
  }
  let f: CursorSecretFile;
  try {
    f = JSON.parse(readFileSync(file, 'utf8')) as CursorSecretFile;
  } catch {
    throw new KeyringError(`the cursor secret ${file} is not valid JSON`);
  }
  if (
    f?.format !== CURSOR_SECRET_FORMAT ||
    typeof f.current !== 'object' ||
    f.current === null ||
    (f.previous !== null &&
      (typeof f.previous !== 'object' || Number.isNaN(Date.parse(f.previous.acceptedUntil))))
  ) {
    throw new KeyringError(`the cursor secret ${file} is not a ${CURSOR_SECRET_FORMAT} file`);
  }
  secretBytes(file, f.current.secret);
  if (f.previous !== null) secretBytes(file, f.previous.secret);
  return f;
}

/**
 * A new current secret; the old one stays accepted for graceMs (0: not at
 * all). Returns when the old one stops being accepted (null: now).
 */
export function rotateCursorSecret(
  file: string,
  graceMs: number,
  now = new Date(),
): { acceptedUntil: string | null } {
  if (!Number.isInteger(graceMs) || graceMs < 0 || graceMs > MAX_CURSOR_GRACE_MS) {
    throw new KeyringError('the grace period of a cursor secret rotation is 0 to 7 days');
  }
  const old = readCursorSecret(file);
  const acceptedUntil = graceMs === 0 ? null : new Date(+now + graceMs).toISOString();
  write(
    file,
    {
      format: CURSOR_SECRET_FORMAT,
      current: { secret: newSecret(), createdAt: now.toISOString() },
      previous:
        acceptedUntil === null
          ? null
          : { secret: old.current.secret, createdAt: old.current.createdAt, acceptedUntil },
    },
    'w',
  );
  return { acceptedUntil };
}

export interface FileCursorKeysOptions {
  reloadIntervalMs: number;
  onReload?: () => void;
  onReloadError?: (err: Error) => void;
  now?: () => number;
}

/**
 * CursorKeys on the file: read at once (throws when unusable, so the server
 * does not start), then re-read when it changed; a replacement that does not
 * load is reported and the keys in use are kept.
 */
export function createFileCursorKeys(file: string, o: FileCursorKeysOptions): CursorKeys {
  const now = o.now ?? Date.now;
  const decode = (f: CursorSecretFile) => ({
    current: secretBytes(file, f.current.secret),
    previous:
      f.previous === null
        ? null
        : {
            key: secretBytes(file, f.previous.secret),
            until: Date.parse(f.previous.acceptedUntil),
          },
  });
  let loaded = decode(readCursorSecret(file));
  let stamp = fileStamp(file);
  let checkedAt = now();

  const refresh = () => {
    const t = now();
    if (t - checkedAt < o.reloadIntervalMs) return;
    checkedAt = t;
    const s = fileStamp(file);
    if (s === stamp) return;
    stamp = s;
    try {
      loaded = decode(readCursorSecret(file));
      o.onReload?.();
    } catch (err) {
      o.onReloadError?.(err as Error);
    }
  };

  return {
    keys(): CursorKeySet {
      refresh();
      const p = loaded.previous;
      return { current: loaded.current, previous: p !== null && now() < p.until ? [p.key] : [] };
    },
  };
}

function fileStamp(file: string): string {
  try {
    const s = statSync(file);
    return `${s.ino}:${s.size}:${s.mtimeMs}:${s.mode}`;
  } catch {
    return 'missing';
  }
}
