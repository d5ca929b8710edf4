// The AEAD for sealed findings (src/crypto/aead.ts): both implementations
// give the XChaCha20-Poly1305 test vector of draft-irtf-cfrg-xchacha-03,
// appendix A.3.1, and each opens what the other sealed; a changed byte of
// ciphertext, tag, nonce or AAD, or another key, does not open.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { aead, nobleAead, sodiumAead, type Aead } from '../../src/crypto/aead.js';

const hex = (s: string) => Buffer.from(s, 'hex');
const VECTOR = {
  plain: Buffer.from(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  ),
  aad: hex('50515253c0c1c2c3c4c5c6c7'),
  key: hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'),
  nonce: hex('404142434445464748494a4b4c4d4e4f5051525354555657'),
  sealed: hex(
    'bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e' +
      'c0875924c1c7987947deafd8780acf49',
  ),
};

const impls: Aead[] = [nobleAead, ...(sodiumAead ? [sodiumAead] : [])];

describe('XChaCha20-Poly1305', () => {
  it('uses libsodium on this platform (linux-x64 has a prebuilt addon)', () => {
    // Where this fails, sealing still works (noble) but costs 3–4× more.
    assert.equal(aead.name, 'libsodium');
  });

  for (const impl of impls) {
    it(`${impl.name}: matches the draft's test vector and opens it`, () => {
      const out = Buffer.alloc(VECTOR.plain.length + 16);
      impl.seal(out, VECTOR.plain, VECTOR.aad, VECTOR.nonce, VECTOR.key);
      assert.equal(out.toString('hex'), VECTOR.sealed.toString('hex'));
      assert.deepEqual(
        impl.open(VECTOR.sealed, VECTOR.aad, VECTOR.nonce, VECTOR.key),
        VECTOR.plain,
      );
    });

    it(`${impl.name}: refuses any changed byte, another AAD, nonce or key`, () => {
      const { sealed, aad, nonce, key } = VECTOR;
      const flip = (b: Buffer, at: number) => {
        const c = Buffer.from(b);
        c[at] = (c[at] as number) ^ 1;
        return c;
      };
      for (const at of [0, 57, sealed.length - 1]) {
        assert.throws(() => impl.open(flip(sealed, at), aad, nonce, key));
      }
      assert.throws(() => impl.open(sealed, flip(aad, 3), nonce, key));
      assert.throws(() => impl.open(sealed, aad, flip(nonce, 23), key));
      assert.throws(() => impl.open(sealed, aad, nonce, randomBytes(32)));
      assert.throws(() => impl.open(sealed.subarray(0, 10), aad, nonce, key));
    });
  }

  it('each implementation opens what the other sealed', { skip: !sodiumAead }, () => {
    const key = randomBytes(32);
    const nonce = randomBytes(24);
    const aad = Buffer.from('vulnvault-finding/v1\u0000org\u0000id');
    for (const len of [0, 1, 63, 64, 65, 1000]) {
      const plain = randomBytes(len);
      const a = Buffer.alloc(len + 16);
      const b = Buffer.alloc(len + 16);
      nobleAead.seal(a, plain, aad, nonce, key);
      (sodiumAead as Aead).seal(b, plain, aad, nonce, key);
      assert.deepEqual(a, b);
      assert.deepEqual((sodiumAead as Aead).open(a, aad, nonce, key), plain);
      assert.deepEqual(nobleAead.open(b, aad, nonce, key), plain);
    }
  });
});
