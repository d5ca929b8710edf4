// Utf8Stream (src/formats/utf8.ts): whatever the chunking, the decoded text
// is the text that was encoded (a leading byte-order mark dropped, one later
// kept); invalid UTF-8 anywhere, or a stream that ends inside a character,
// throws with the valid text before it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { completePrefixLength, InvalidUtf8, Utf8Stream } from '../../src/formats/utf8.js';

/** The decoded text; on invalid UTF-8, throws InvalidUtf8 with all the text before it. */
function decodeInChunks(bytes: Uint8Array, cuts: number[]): string {
  const s = new Utf8Stream();
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let out = '';
  let from = 0;
  try {
    for (const c of [...at, bytes.length]) {
      out += s.decode(bytes.subarray(from, c));
      from = c;
    }
    return out + s.end();
  } catch (err) {
    if (err instanceof InvalidUtf8) throw new InvalidUtf8(out + err.validPrefix);
    throw err;
  }
}

describe('Utf8Stream', () => {
  it('decodes any text split anywhere, keeping a byte-order mark that is not first', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.boolean(),
        (text, cuts, bom) => {
          const input = `${bom ? '\uFEFF' : ''}${text}x\uFEFF`;
          const bytes = new TextEncoder().encode(input);
          assert.equal(decodeInChunks(bytes, cuts), `${text}x\uFEFF`);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('throws on an invalid byte wherever the chunks end, with the text before it', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme-ascii', maxLength: 50 }),
        fc.constantFrom(0xff, 0xc0, 0x80, 0xed),
        fc.array(fc.nat(), { maxLength: 6 }),
        (text, bad, cuts) => {
          const good = new TextEncoder().encode(text);
          const bytes = new Uint8Array([...good, bad, 0x41, 0x42]);
          assert.throws(
            () => decodeInChunks(bytes, cuts),
            (err: unknown) => err instanceof InvalidUtf8 && err.validPrefix === text,
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('throws when the stream ends inside a character', () => {
    const euro = new TextEncoder().encode('a€');
    const s = new Utf8Stream();
    assert.equal(s.decode(euro.subarray(0, 2)), 'a');
    assert.throws(() => s.end(), InvalidUtf8);
  });

  it('finds the last character boundary', () => {
    const b = (...x: number[]) => new Uint8Array(x);
    assert.equal(completePrefixLength(b(0x41, 0x42)), 2);
    assert.equal(completePrefixLength(b(0x41, 0xe2, 0x82)), 1); // € cut after 2 of 3 bytes
    assert.equal(completePrefixLength(b(0x41, 0xe2, 0x82, 0xac)), 4);
    assert.equal(completePrefixLength(b(0xf0, 0x9f, 0x98)), 0); // 😀 cut after 3 of 4
    assert.equal(completePrefixLength(b(0x80, 0x80, 0x80, 0x80)), 4); // invalid: left to the decoder
  });
});
