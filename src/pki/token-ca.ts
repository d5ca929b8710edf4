// The CA's signing key kept in a PKCS#11 token (pki.caKey is a pkcs11: URI):
// an ECDSA P-256 key pair generated inside the token, the private half
// sensitive and non-extractable. Certificates and CRLs are built by
// @peculiar/x509 as for a PEM key; only the signature over the TBS bytes is
// made by the token (CKM_ECDSA over the SHA-256 digest), through a Web
// Crypto whose `sign` goes to the token for this one key and whose every
// other call is Node's own.

import { createHash, type webcrypto as wc } from 'node:crypto';
import { Token } from '../crypto/pkcs11/token.js';
import { TokenError } from '../crypto/pkcs11/token-error.js';
import { parsePkcs11Uri } from '../crypto/pkcs11/uri.js';
import { selfSignedCaCert, type KeyIssuer, type NameParts, type X509Crypto } from './issue.js';
import { webcrypto, x509 } from './x509.js';

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;

export interface TokenKeyPair {
  keys: wc.CryptoKeyPair;
  crypto: X509Crypto;
  close(): void;
}

function hashName(alg: unknown): string | undefined {
  const h = (alg as { hash?: unknown }).hash;
  return typeof h === 'string' ? h : (h as { name?: string } | undefined)?.name;
}

/** The token's CA key pair as Web Crypto keys, and the Crypto that signs with it. */
export async function openTokenKeyPair(keyUri: string): Promise<TokenKeyPair> {
  const uri = parsePkcs11Uri(keyUri);
  const token = Token.open(uri);
  try {
    const handle = token.privateKey(uri, 'ec-p256');
    const spki = token.publicKey(uri, 'ec-p256').export({ type: 'spki', format: 'der' });
    const publicKey = await webcrypto.subtle.importKey('spki', spki, EC, true, ['verify']);
    // Stands for the key in the token; holds nothing secret.
    const privateKey = Object.freeze({
      type: 'private',
      extractable: false,
      algorithm: EC,
      usages: ['sign'],
    }) as unknown as wc.CryptoKey;
    const subtle = webcrypto.subtle;
    const tokenSubtle = new Proxy(subtle, {
      get(target, prop) {
        if (prop === 'sign') {
          return (alg: unknown, key: unknown, data: ArrayBuffer | ArrayBufferView) => {
            if (key !== privateKey) {
              return target.sign(alg as wc.AlgorithmIdentifier, key as wc.CryptoKey, data);
            }
            if (hashName(alg) !== 'SHA-256') {
              return Promise.reject(new TokenError('the token CA key signs only with SHA-256'));
            }
            const bytes = ArrayBuffer.isView(data)
              ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
              : Buffer.from(data);
            try {
              const digest = createHash('sha256').update(bytes).digest();
              const sig = token.signEcdsaDigest(handle, digest);
              return Promise.resolve(new Uint8Array(sig).buffer);
            } catch (err) {
              return Promise.reject(err instanceof Error ? err : new Error(String(err)));
            }
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const crypto = {
      subtle: tokenSubtle,
      getRandomValues: webcrypto.getRandomValues.bind(webcrypto),
      randomUUID: webcrypto.randomUUID.bind(webcrypto),
    } as unknown as X509Crypto;
    return { keys: { privateKey, publicKey }, crypto, close: () => token.close() };
  } catch (err) {
    token.close();
    throw err;
  }
}

/**
 * The CA as an issuer: its certificate and the token's key, refused when the
 * certificate is not the token key's (a swapped certificate must not be used).
 */
export async function openTokenCa(
  certPem: string,
  keyUri: string,
): Promise<KeyIssuer & { close(): void }> {
  const pair = await openTokenKeyPair(keyUri);
  try {
    const cert = new x509.X509Certificate(certPem);
    const certKey = Buffer.from(cert.publicKey.rawData);
    const tokenKey = Buffer.from(await webcrypto.subtle.exportKey('spki', pair.keys.publicKey));
    if (!certKey.equals(tokenKey)) {
      throw new TokenError(
        `the CA certificate does not belong to the key ${parsePkcs11Uri(keyUri).name}; refusing to sign with it`,
      );
    }
    return {
      certPem,
      signingKey: pair.keys.privateKey,
      crypto: pair.crypto,
      close: () => pair.close(),
    };
  } catch (err) {
    pair.close();
    throw err;
  }
}

/** A self-signed CA certificate for the CA key in the token. */
export async function createTokenCaCert(
  subject: NameParts,
  notAfter: Date,
  keyUri: string,
): Promise<string> {
  const pair = await openTokenKeyPair(keyUri);
  try {
    return await selfSignedCaCert(subject, notAfter, pair.keys, pair.crypto);
  } finally {
    pair.close();
  }
}
