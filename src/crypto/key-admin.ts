// Key administration on the local keyring (DP 1.2): create, rotate (new
// primary version, then every data key rewrapped under it while the server
// keeps serving), disable / enable, schedule and cancel deletion. Each change
// needs the key-admin private key, which the server does not hold: the new
// keyring is signed with it, and the server loads nothing else. Versions
// whose deletion date has passed lose their material at the next change.

import { createPublicKey, type KeyObject } from 'node:crypto';
import { KeyringError } from './keyring-error.js';
import type { DataKeyStore, WrappedDataKey } from '../core/keys.js';
import { unwrapKey, wrapKey } from './envelope.js';
import {
  effectiveState,
  kekId,
  KEYRING_FORMAT,
  newKeyVersion,
  readKeyring,
  signKeyring,
  versionOfKekId,
  writeKeyring,
  type Keyring,
  type KeyState,
  type KeyVersion,
} from './keyring.js';

export const DELETION_DAYS = { min: 7, max: 30 } as const;

export interface KeyAdminContext {
  keyringFile: string;
  /** The pinned key-admin public key (keys.adminPublicKey). */
  adminPublicKey: KeyObject;
}

export function createKeyring(file: string, adminKey: KeyObject, now = new Date()): Keyring {
  const ring = signKeyring(
    { format: KEYRING_FORMAT, serial: 1, primary: 1, versions: [newKeyVersion(1, now)] },
    adminKey,
  );
  writeKeyring(file, ring);
  return ring;
}

/** The admin key must be the one the keyring is pinned to. */
export function checkAdminKey(ctx: KeyAdminContext, adminKey: KeyObject): void {
  const given = createPublicKey(adminKey).export({ type: 'spki', format: 'der' });
  const pinned = ctx.adminPublicKey.export({ type: 'spki', format: 'der' });
  if (!given.equals(pinned)) {
    throw new KeyringError(
      'the --admin-key given is not the key-admin key of this keyring (keys.adminPublicKey)',
    );
  }
}

function purgeExpired(ring: Keyring, now: Date): number[] {
  const purged: number[] = [];
  for (const v of ring.versions) {
    if (v.state === 'pending_deletion' && effectiveState(v, now) === 'deleted') {
      v.state = 'deleted';
      v.material = null;
      purged.push(v.version);
    }
  }
  return purged;
}

/** Loads, applies `change`, purges expired versions, signs and writes. */
function change(
  ctx: KeyAdminContext,
  adminKey: KeyObject,
  fn: (ring: Keyring, now: Date) => void,
): { ring: Keyring; purged: number[] } {
  checkAdminKey(ctx, adminKey);
  const ring = readKeyring(ctx.keyringFile, ctx.adminPublicKey);
  const now = new Date();
  fn(ring, now);
  const purged = purgeExpired(ring, now);
  const next = signKeyring({ ...ring, serial: ring.serial + 1 }, adminKey);
  writeKeyring(ctx.keyringFile, next);
  return { ring: next, purged };
}

function versionOf(ring: Keyring, version: number): KeyVersion {
  const v = ring.versions.find((x) => x.version === version);
  if (!v) throw new KeyringError(`the keyring has no version ${version}`);
  return v;
}

export interface RewrapResult {
  rewrapped: number;
  skipped: { org: string; kek: string; reason: string }[];
}

/** Rewraps every data key not under the primary version (compare-and-set). */
export async function rewrapAll(ring: Keyring, store: DataKeyStore): Promise<RewrapResult> {
  const primaryId = kekId(ring.primary);
  const primary = versionOf(ring, ring.primary);
  if (primary.material === null || primary.state !== 'enabled') {
    throw new KeyringError(`the primary version ${ring.primary} is ${primary.state}`);
  }
  const kek = Buffer.from(primary.material, 'base64');
  const result: RewrapResult = { rewrapped: 0, skipped: [] };
  const now = new Date();
  for (const key of await store.list()) {
    if (key.kek === primaryId) continue;
    const from = versionOfKekId(key.kek);
    const v = from === undefined ? undefined : ring.versions.find((x) => x.version === from);
    const state = v ? effectiveState(v, now) : 'unknown';
    if (!v || state !== 'enabled' || v.material === null) {
      result.skipped.push({ org: key.org, kek: key.kek, reason: `version is ${state}` });
      continue;
    }
    let dek: Buffer;
    try {
      dek = unwrapKey(Buffer.from(v.material, 'base64'), key.kek, key.org, key.wrapped);
    } catch {
      result.skipped.push({ org: key.org, kek: key.kek, reason: 'this keyring cannot unwrap it' });
      continue;
    }
    const wrapped = wrapKey(kek, primaryId, key.org, dek);
    if (await store.rewrap(key.org, key.kek, { kek: primaryId, wrapped })) result.rewrapped++;
  }
  return result;
}

/**
 * New primary version, then rewrap. A server that has not yet seen the new
 * keyring (it looks every reloadIntervalMs) may still wrap a new org's key
 * under the old version, so a second pass runs after `settleMs`.
 */
export async function rotate(
  ctx: KeyAdminContext,
  adminKey: KeyObject,
  store: DataKeyStore,
  settleMs: number,
): Promise<{ version: number; previous: number; purged: number[] } & RewrapResult> {
  let previous = 0;
  let version = 0;
  const { ring, purged } = change(ctx, adminKey, (r, now) => {
    previous = r.primary;
    version = Math.max(...r.versions.map((v) => v.version)) + 1;
    r.versions.push(newKeyVersion(version, now));
    r.primary = version;
  });
  const first = await rewrapAll(ring, store);
  await new Promise((r) => setTimeout(r, settleMs));
  const second = await rewrapAll(ring, store);
  return {
    version,
    previous,
    purged,
    rewrapped: first.rewrapped + second.rewrapped,
    skipped: second.skipped,
  };
}

export type StateChange = 'disable' | 'enable' | 'schedule-deletion' | 'cancel-deletion';

export function changeState(
  ctx: KeyAdminContext,
  adminKey: KeyObject,
  keys: readonly WrappedDataKey[],
  op: StateChange,
  version: number,
  days: number = DELETION_DAYS.max,
): { ring: Keyring; purged: number[]; deletionDate: string | null } {
  let deletionDate: string | null = null;
  const out = change(ctx, adminKey, (ring, now) => {
    const v = versionOf(ring, version);
    const state = effectiveState(v, now);
    const refuse = (why: string) => {
      throw new KeyringError(`cannot ${op} version ${version}: ${why}`);
    };
    switch (op) {
      case 'disable':
        if (state !== 'enabled') refuse(`it is ${state}`);
        v.state = 'disabled';
        break;
      case 'enable':
        if (state !== 'disabled') refuse(`it is ${state}`);
        v.state = 'enabled';
        break;
      case 'schedule-deletion': {
        if (!Number.isInteger(days) || days < DELETION_DAYS.min || days > DELETION_DAYS.max) {
          refuse(`the waiting period must be ${DELETION_DAYS.min} to ${DELETION_DAYS.max} days`);
        }
        if (state !== 'enabled' && state !== 'disabled') refuse(`it is ${state}`);
        if (ring.primary === version) refuse('it is the primary version; rotate first');
        const orgs = keys.filter((k) => k.kek === kekId(version)).map((k) => k.org);
        if (orgs.length > 0) {
          refuse(
            `it still protects the data keys of ${orgs.slice(0, 5).join(', ')}${orgs.length > 5 ? ` and ${orgs.length - 5} more` : ''}; rotate first`,
          );
        }
        v.state = 'pending_deletion';
        v.deletionDate = new Date(+now + days * 86_400_000).toISOString();
        deletionDate = v.deletionDate;
        break;
      }
      case 'cancel-deletion':
        if (state !== 'pending_deletion') refuse(`it is ${state}, not pending deletion`);
        v.state = 'disabled';
        v.deletionDate = null;
        break;
    }
  });
  return { ...out, deletionDate };
}

export interface VersionStatus {
  version: number;
  state: KeyState;
  primary: boolean;
  createdAt: string;
  deletionDate: string | null;
  /** Orgs whose data key this version wraps. */
  orgs: string[];
}

export function keyStatus(
  ring: Keyring,
  keys: readonly WrappedDataKey[],
  now = new Date(),
): VersionStatus[] {
  return ring.versions.map((v) => ({
    version: v.version,
    state: effectiveState(v, now),
    primary: v.version === ring.primary,
    createdAt: v.createdAt,
    deletionDate: v.deletionDate,
    orgs: keys.filter((k) => k.kek === kekId(v.version)).map((k) => k.org),
  }));
}
