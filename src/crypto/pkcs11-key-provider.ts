// KeyProvider on a key-encryption key kept in a PKCS#11 token (keys.provider
// 'pkcs11'): an AES-256 secret key generated inside the token, sensitive and
// non-extractable. A DEK is wrapped by AES-256-GCM inside the token with a
// random 96-bit IV and the AAD binding it to the org and the KEK's name, so a
// wrapped DEK moved to another org does not unwrap. Stored form:
// 0x01 || IV (12) || ciphertext (32) || tag (16), KEK id = the key's pkcs11:
// URI without its query (no module path, no PIN source).
//
// Fail closed: the token is opened and the key checked when the provider is
// made (a TokenError stops the start); later failures (token removed,
// session lost, tag mismatch) are 503 key_unavailable.

import { randomBytes } from 'node:crypto';
import { VaultError } from '../core/errors.js';
import type { KeyProvider, WrappedDataKey } from '../core/keys.js';
import { Token } from './pkcs11/token.js';
import { parsePkcs11Uri } from './pkcs11/uri.js';

const VERSION = 0x01;
const IV = 12;
const TAG = 16;

function unavailable(cause: unknown): VaultError {
  return new VaultError('key_unavailable', 'the encryption key for this org is unavailable', {
    cause,
  });
}

function aad(kekId: string, org: string): Buffer {
  return Buffer.from(`vulnvault-dek-pkcs11/v1\u0000${org}\u0000${kekId}`, 'utf8');
}

export function createPkcs11KeyProvider(opts: { kek: string }): KeyProvider {
  const uri = parsePkcs11Uri(opts.kek);
  const token = Token.open(uri);
  let key: Buffer;
  try {
    key = token.privateKey(uri, 'aes-256');
  } catch (err) {
    token.close();
    throw err;
  }
  let closed = false;
  return {
    generation: () => 0,
    wrap(org, dek) {
      try {
        if (closed) throw new Error('the key provider is closed');
        const iv = randomBytes(IV);
        const sealed = token.encryptGcm(key, iv, aad(uri.name, org), dek);
        return Promise.resolve({
          kek: uri.name,
          wrapped: Buffer.concat([Buffer.of(VERSION), iv, sealed]),
        });
      } catch (err) {
        return Promise.reject(unavailable(err));
      }
    },
    unwrap(k: WrappedDataKey) {
      try {
        if (closed) throw new Error('the key provider is closed');
        // Always the configured key: a row naming another KEK is not
        // unwrapped with whatever that name points at.
        if (k.kek !== uri.name) throw new Error(`DEK wrapped by ${k.kek}, not by ${uri.name}`);
        const b = k.wrapped;
        if (b.length <= 1 + IV + TAG || b[0] !== VERSION) throw new Error('not a wrapped data key');
        return Promise.resolve(
          token.decryptGcm(key, b.subarray(1, 1 + IV), aad(uri.name, k.org), b.subarray(1 + IV)),
        );
      } catch (err) {
        return Promise.reject(unavailable(err));
      }
    },
    close() {
      if (closed) return;
      closed = true;
      token.close();
    },
  };
}
