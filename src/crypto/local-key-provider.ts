// KeyProvider on the local keyring file. The server loads it at start (mode
// 0600 and a valid key-admin signature, or it refuses to start) and looks
// for a changed file at most once per `reloadIntervalMs`, when keys are
// used: a rotation or a disabled version takes effect without a restart. A
// replacement that does not verify (bad signature, readable by others, an
// older serial) is refused and the previous keyring kept.

import { statSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { VaultError } from '../core/errors.js';
import type { KeyProvider, WrappedDataKey } from '../core/keys.js';
import { unwrapKey, wrapKey } from './envelope.js';
import { effectiveState, kekId, readKeyring, versionOfKekId, type Keyring } from './keyring.js';

export interface LocalKeyProviderOptions {
  file: string;
  adminPublicKey: KeyObject;
  reloadIntervalMs: number;
  onReload?: (k: Keyring) => void;
  onReloadError?: (err: Error) => void;
}

function unavailable(why: string, cause?: unknown): VaultError {
  // The client learns only that the key is unavailable; `why` is for the log.
  return new VaultError('key_unavailable', 'the encryption key for this org is unavailable', {
    cause: cause ?? new Error(why),
  });
}

export function createLocalKeyProvider(opts: LocalKeyProviderOptions): KeyProvider {
  let keyring = readKeyring(opts.file, opts.adminPublicKey);
  let stamp = fileStamp(opts.file);
  let generation = 1;
  let checkedAt = Date.now();

  const refresh = () => {
    const t = Date.now();
    if (t - checkedAt < opts.reloadIntervalMs) return;
    checkedAt = t;
    const s = fileStamp(opts.file);
    if (s === stamp) return;
    stamp = s;
    try {
      const next = readKeyring(opts.file, opts.adminPublicKey);
      if (next.serial < keyring.serial) {
        throw new Error(`keyring serial ${next.serial} is older than the loaded ${keyring.serial}`);
      }
      keyring = next;
      generation++;
      opts.onReload?.(next);
    } catch (err) {
      opts.onReloadError?.(err as Error);
    }
  };

  const material = (version: number): Buffer => {
    const v = keyring.versions.find((x) => x.version === version);
    if (!v) throw unavailable(`keyring has no version ${version}`);
    const state = effectiveState(v, new Date());
    if (state !== 'enabled' || v.material === null) {
      throw unavailable(`key version ${version} is ${state}`);
    }
    return Buffer.from(v.material, 'base64');
  };

  return {
    generation() {
      refresh();
      return generation;
    },
    wrap(org, dek) {
      try {
        refresh();
        const id = kekId(keyring.primary);
        return Promise.resolve({
          kek: id,
          wrapped: wrapKey(material(keyring.primary), id, org, dek),
        });
      } catch (err) {
        return Promise.reject(err instanceof VaultError ? err : unavailable('wrap failed', err));
      }
    },
    unwrap(key: WrappedDataKey) {
      try {
        refresh();
        const version = versionOfKekId(key.kek);
        if (version === undefined) throw unavailable(`not a local key id: ${key.kek}`);
        return Promise.resolve(unwrapKey(material(version), key.kek, key.org, key.wrapped));
      } catch (err) {
        return Promise.reject(err instanceof VaultError ? err : unavailable('unwrap failed', err));
      }
    },
    close() {},
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
