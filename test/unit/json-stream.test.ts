// The shared streaming JSON reader (src/formats/json-stream.ts) gives the
// same values whatever the chunk boundaries: in particular a 3- or 4-byte
// UTF-8 character split across three chunks, which @streamparser/json 0.0.22
// alone refuses as invalid JSON (found by the SARIF chunk-boundary property,
// seed -62272082, cuts [174, 175]).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tokenizer } from '@streamparser/json';
import { VaultError } from '../../src/core/errors.js';
import { incompleteTail, jsonStreamParser, type JsonValue } from '../../src/formats/json-stream.js';

const doc = Buffer.from(
  JSON.stringify({ items: [{ t: 'a☺b' }, { t: '😀' }, { t: 'ü€' }, { k: 'plain' }] }, null, 1),
);

function read(bytes: Buffer, cuts: number[]): JsonValue[] {
  const values: JsonValue[] = [];
  const p = jsonStreamParser({
    paths: ['$.items.*'],
    onValue: (_path, v) => void values.push(v),
    shapeError: 'invalid_json',
    what: 'the document',
  });
  let at = 0;
  for (const cut of cuts) {
    void p.write(bytes.subarray(at, cut));
    at = cut;
  }
  void p.write(bytes.subarray(at));
  void p.end();
  return values;
}

describe('streaming JSON reader: chunk boundaries', () => {
  const whole = read(doc, []);

  it('reads the document whole', () => {
    assert.deepEqual(whole, [{ t: 'a☺b' }, { t: '😀' }, { t: 'ü€' }, { k: 'plain' }]);
  });

  it('the tokenizer alone fails on a character split across three chunks (why the reader holds bytes back)', () => {
    const at = doc.indexOf(Buffer.from('☺'));
    const t = new Tokenizer();
    let failed = false;
    t.onToken = () => undefined;
    t.onError = () => void (failed = true);
    t.write(doc.subarray(0, at + 1));
    t.write(doc.subarray(at + 1, at + 2));
    t.write(doc.subarray(at + 2));
    // If a later version fixes this, the hold-back in json-stream.ts can go.
    assert.equal(failed, true);
  });

  it('gives the same values for every cut into three pieces around each multi-byte character', () => {
    let checked = 0;
    for (let i = 1; i < doc.length - 1; i++) {
      if (doc[i]! < 0x80 && doc[i - 1]! < 0x80) continue; // cuts away from multi-byte characters add nothing
      for (let j = i + 1; j <= Math.min(i + 4, doc.length - 1); j++) {
        assert.deepEqual(read(doc, [i, j]), whole, `cuts ${i}, ${j}`);
        checked++;
      }
    }
    assert.ok(checked > 40, `checked ${checked} splits`);
  });

  it('gives the same values fed one byte at a time', () => {
    const cuts = Array.from({ length: doc.length - 1 }, (_, k) => k + 1);
    assert.deepEqual(read(doc, cuts), whole);
  });

  it('refuses a document that ends inside a character, naming no content', () => {
    const cut = doc.subarray(0, doc.indexOf(Buffer.from('😀')) + 2);
    assert.throws(
      () => read(cut, []),
      (e: unknown) =>
        e instanceof VaultError && e.code === 'invalid_json' && !e.message.includes('😀'),
    );
  });

  it('counts the bytes of an unfinished character at the end of a chunk', () => {
    assert.equal(incompleteTail(Buffer.from('ab')), 0);
    assert.equal(incompleteTail(Buffer.from('a☺')), 0);
    assert.equal(incompleteTail(Buffer.from('☺').subarray(0, 1)), 1);
    assert.equal(incompleteTail(Buffer.from('☺').subarray(0, 2)), 2);
    assert.equal(incompleteTail(Buffer.from('😀').subarray(0, 3)), 3);
    assert.equal(incompleteTail(Buffer.from('ü').subarray(0, 1)), 1);
    assert.equal(incompleteTail(Buffer.alloc(0)), 0);
  });
});
