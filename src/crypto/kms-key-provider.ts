// KeyProvider on AWS KMS: a DEK is wrapped with Encrypt under the configured
// customer-managed key, with the encryption context {org}, and unwrapped with
// Decrypt under the same context (a wrapped DEK moved to another org does not
// decrypt). KMS rotates the key material itself (automatic rotation, set in
// the CDK app); the key ARN is stored with each wrapped DEK. Any KMS failure
// — disabled key, pending deletion, access denied, unreachable — becomes
// 503 key_unavailable: fail closed.

import {
  DecryptCommand,
  EncryptCommand,
  KMSClient,
  type KMSClientConfig,
} from '@aws-sdk/client-kms';
import { VaultError } from '../core/errors.js';
import type { KeyProvider } from '../core/keys.js';

export interface KmsKeyProviderOptions {
  keyId: string;
  /** Region, endpoint, credentials…; tests point `endpoint` at a local fake. */
  client?: KMSClientConfig;
  /** Per-call timeout, so an unreachable KMS fails fast instead of hanging requests. */
  timeoutMs?: number;
}

function unavailable(cause: unknown): VaultError {
  return new VaultError('key_unavailable', 'the encryption key for this org is unavailable', {
    cause,
  });
}

export function createKmsKeyProvider(opts: KmsKeyProviderOptions): KeyProvider {
  const client = new KMSClient({ maxAttempts: 2, ...opts.client });
  const timeoutMs = opts.timeoutMs ?? 5000;
  const signal = () => ({ abortSignal: AbortSignal.timeout(timeoutMs) });
  return {
    generation: () => 0,
    async wrap(org, dek) {
      try {
        const r = await client.send(
          new EncryptCommand({ KeyId: opts.keyId, Plaintext: dek, EncryptionContext: { org } }),
          signal(),
        );
        if (!r.CiphertextBlob) throw new Error('KMS Encrypt returned no ciphertext');
        return { kek: r.KeyId ?? opts.keyId, wrapped: Buffer.from(r.CiphertextBlob) };
      } catch (err) {
        throw unavailable(err);
      }
    },
    async unwrap(key) {
      try {
        const r = await client.send(
          new DecryptCommand({
            // Always the configured key, never the id stored with the row:
            // whoever can write the database must not be able to plant a data
            // key wrapped under a KMS key of their own.
            KeyId: opts.keyId,
            CiphertextBlob: key.wrapped,
            EncryptionContext: { org: key.org },
          }),
          signal(),
        );
        if (!r.Plaintext) throw new Error('KMS Decrypt returned no plaintext');
        return Buffer.from(r.Plaintext);
      } catch (err) {
        throw unavailable(err);
      }
    },
    close() {
      client.destroy();
    },
  };
}
