// Picks the KeyProvider the config names: the local keyring (default) or AWS
// KMS. Both refuse to start when they cannot be used: a keyring that is
// missing, readable by others or not signed by the key-admin key. The AWS
// SDK is loaded only when KMS is configured: a local run never loads it.

import type { Logger } from 'pino';
import { resolvePath, type Config } from '../config/config.js';
import type { KeyProvider } from '../core/keys.js';
import { loadAdminPublicKey } from './admin-key.js';
import { createLocalKeyProvider } from './local-key-provider.js';

export async function openKeyProvider(config: Config, logger?: Logger): Promise<KeyProvider> {
  const k = config.keys;
  if (k.provider === 'kms' && k.kms) {
    const { createKmsKeyProvider } = await import('./kms-key-provider.js');
    return createKmsKeyProvider({
      keyId: k.kms.keyId,
      client: { region: k.kms.region, ...(k.kms.endpoint ? { endpoint: k.kms.endpoint } : {}) },
    });
  }
  const file = resolvePath(config, k.keyring);
  return createLocalKeyProvider({
    file,
    adminPublicKey: loadAdminPublicKey(resolvePath(config, k.adminPublicKey)),
    reloadIntervalMs: k.reloadIntervalMs,
    onReload: (ring) =>
      logger?.info({ serial: ring.serial, primary: ring.primary }, 'keyring reloaded'),
    onReloadError: (err) =>
      logger?.error({ err: err.message }, 'keyring not reloaded; keeping the previous one'),
  });
}
