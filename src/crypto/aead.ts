// XChaCha20-Poly1305 (IETF construction: HChaCha20 subkey + ChaCha20-Poly1305,
// 24-byte nonce, 16-byte tag) for the sealed content of findings, one call per
// finding. Two implementations that produce the same bytes:
//
//   libsodium  through sodium-native's prebuilt addon: about 1.2 µs per
//              finding, where node:crypto's AES-256-GCM costs 4–6 µs, almost
//              all of it per-call overhead (a Cipheriv object, five native
//              calls) rather than cipher work;
//   noble      @noble/ciphers, audited pure JavaScript: used where the addon
//              does not load (a platform without a prebuild).
//
// Both are well-kept libraries; nothing here implements a primitive. The
// 192-bit random nonce also removes AES-GCM's 2^32-messages-per-key limit on
// random 96-bit IVs.

import { createRequire } from 'node:module';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';

export const NONCE_BYTES = 24;
export const TAG_BYTES = 16;

export interface Aead {
  readonly name: 'libsodium' | 'noble';
  /** Writes ciphertext ‖ tag (plain.length + 16 bytes) into out. */
  seal(
    out: Uint8Array,
    plain: Uint8Array,
    aad: Uint8Array,
    nonce: Uint8Array,
    key: Uint8Array,
  ): void;
  /** The plaintext, or throws when the tag does not verify. */
  open(sealed: Uint8Array, aad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer;
}

interface SodiumNative {
  crypto_aead_xchacha20poly1305_ietf_encrypt(
    c: Uint8Array,
    m: Uint8Array,
    ad: Uint8Array | null,
    nsec: null,
    npub: Uint8Array,
    k: Uint8Array,
  ): number;
  crypto_aead_xchacha20poly1305_ietf_decrypt(
    m: Uint8Array,
    nsec: null,
    c: Uint8Array,
    ad: Uint8Array | null,
    npub: Uint8Array,
    k: Uint8Array,
  ): number;
}

function loadSodium(): SodiumNative | undefined {
  try {
    return createRequire(import.meta.url)('sodium-native') as SodiumNative;
  } catch {
    return undefined;
  }
}

const sodium = loadSodium();

export const sodiumAead: Aead | undefined = sodium && {
  name: 'libsodium',
  seal(out, plain, aad, nonce, key) {
    const n = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(out, plain, aad, null, nonce, key);
    if (n !== plain.length + TAG_BYTES) throw new Error('XChaCha20-Poly1305 length');
  },
  open(sealed, aad, nonce, key) {
    if (sealed.length < TAG_BYTES) throw new Error('truncated');
    const plain = Buffer.allocUnsafe(sealed.length - TAG_BYTES);
    // Throws when the tag does not verify.
    sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(plain, null, sealed, aad, nonce, key);
    return plain;
  },
};

export const nobleAead: Aead = {
  name: 'noble',
  seal(out, plain, aad, nonce, key) {
    const sealed = xchacha20poly1305(key, nonce, aad).encrypt(plain);
    if (sealed.length !== plain.length + TAG_BYTES) throw new Error('XChaCha20-Poly1305 length');
    out.set(sealed);
  },
  open(sealed, aad, nonce, key) {
    const plain = xchacha20poly1305(key, nonce, aad).decrypt(sealed);
    return Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
  },
};

/** libsodium where its addon loads, else the pure-JavaScript implementation. */
export const aead: Aead = sodiumAead ?? nobleAead;
