// Picks the KeyProvider the config names: the local keyring (default), AWS
// KMS, or a KEK kept in a PKCS#11 token. Each refuses to start when it cannot
// be used: a keyring that is missing, readable by others or not signed by the
// key-admin key; a PKCS#11 module, token, PIN or key that is not usable
// (TokenError; never a fallback to the keyring file). The AWS SDK and the
// PKCS#11 addon are loaded only when configured.

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
  if (k.provider === 'pkcs11' && k.pkcs11) {
    const { createPkcs11KeyProvider } = await import('./pkcs11-key-provider.js');
    return createPkcs11KeyProvider({ kek: k.pkcs11.kek });
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
