// The envelope (src/crypto): a sealed finding opens only with its key, org
// and id; a wrapped data key only with its KEK, org and KEK id; the data-key
// cache unwraps again when the key state changes or the entry is too old.

import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { DataKeyStore, KeyProvider, WrappedDataKey } from '../../src/core/keys.js';
import { createDataKeys } from '../../src/crypto/data-keys.js';
import {
  findingSealer,
  packBatch,
  packFields,
  unpackFields,
  unwrapKey,
  wrapKey,
} from '../../src/crypto/envelope.js';
import { effectiveState, type KeyVersion } from '../../src/crypto/keyring.js';

const fields = { description: 'd', solution: 's', evidence: 'e\n"quoted"\u0000', detail: '' };

describe('finding envelope', () => {
  const dek = randomBytes(32);
  const sealer = findingSealer(dek);

  it('round-trips the sealed fields and never stores them in clear', () => {
    const blob = sealer.seal('org1', 'id-1', fields);
    assert.deepEqual(sealer.open('org1', 'id-1', blob), fields);
    assert.ok(!blob.includes('quoted'));
    // A fresh IV each time: the same content seals to different bytes.
    assert.notDeepEqual(sealer.seal('org1', 'id-1', fields), blob);
  });

  it('binds org and id of any length, non-ASCII too', () => {
    for (const org of ['o', 'ørg-€', 'x'.repeat(400)]) {
      const blob = sealer.seal(org, 'id-9', fields);
      assert.deepEqual(sealer.open(org, 'id-9', blob), fields);
      assert.throws(() => sealer.open(`${org}x`, 'id-9', blob), { code: 'key_unavailable' });
    }
  });

  it('refuses another finding id, another org, another key, and any changed byte', () => {
    const blob = sealer.seal('org1', 'id-1', fields);
    const fails = (f: () => unknown) =>
      assert.throws(f, { code: 'key_unavailable', message: /cannot be read/ });
    fails(() => sealer.open('org1', 'id-2', blob));
    fails(() => sealer.open('org2', 'id-1', blob));
    fails(() => findingSealer(randomBytes(32)).open('org1', 'id-1', blob));
    for (const at of [0, 1, 13, 25, blob.length - 1]) {
      const bad = Buffer.from(blob);
      bad[at] = (bad[at] as number) ^ 1;
      fails(() => sealer.open('org1', 'id-1', bad));
    }
    fails(() => sealer.open('org1', 'id-1', blob.subarray(0, 10)));
  });

  it('packs a batch into one buffer whose slices seal like the fields themselves', () => {
    const list = [
      fields,
      { description: 'é€😀', solution: '', evidence: 'x'.repeat(5000), detail: '' },
      { ...fields, detail: 'a scanner said: not reachable ✓' },
      fields,
    ];
    const { bytes, ends } = packBatch(list);
    assert.equal(ends.at(-1), bytes.length);
    // The detail is packed only when there is one: a blob written before
    // analyses existed packs the same as a finding without one.
    assert.deepEqual(packFields(fields), packFields({ ...fields, detail: undefined }));
    assert.deepEqual(
      packFields({ ...fields, detail: undefined, analysis: { detail: 'x' } }),
      packFields({ ...fields, detail: 'x' }),
    );
    assert.equal(packFields({ ...fields, detail: 'x' }).length, packFields(fields).length + 5);
    assert.ok(bytes.buffer.byteLength >= bytes.length);
    // Its own buffer, transferable: a small batch is not cut from Buffer's pool.
    const small = packBatch([fields]).bytes;
    assert.equal(small.byteOffset, 0);
    assert.ok(small.buffer.byteLength < Buffer.poolSize, 'not a pooled slab');
    list.forEach((f, i) => {
      const slice = bytes.subarray(i === 0 ? 0 : ends[i - 1], ends[i]);
      assert.deepEqual(unpackFields(slice), f);
      assert.deepEqual(
        sealer.open('org1', `id-${i}`, sealer.sealPacked('org1', `id-${i}`, slice)),
        f,
      );
    });
  });

  it('seals with XChaCha20-Poly1305 (version 2) and still opens AES-256-GCM blobs (version 1)', () => {
    const blob = sealer.seal('org1', 'id-1', fields);
    assert.equal(blob[0], 2);
    assert.equal(blob.length, 1 + 24 + packFields(fields).length + 16);
    // A version-1 blob, as vulnvault 0.1 wrote it: 0x01 | iv (12) | AES-256-GCM | tag.
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', dek, iv);
    c.setAAD(Buffer.from('vulnvault-finding/v1\u0000org1\u0000id-1'));
    const body = Buffer.concat([c.update(packFields(fields)), c.final()]);
    const v1 = Buffer.concat([Buffer.of(1), iv, body, c.getAuthTag()]);
    assert.deepEqual(sealer.open('org1', 'id-1', v1), fields);
    assert.throws(() => sealer.open('org1', 'id-2', v1), { code: 'key_unavailable' });
    const v3 = Buffer.from(blob);
    v3[0] = 3;
    assert.throws(() => sealer.open('org1', 'id-1', v3), { code: 'key_unavailable' });
  });

  it('opens to the packed fields it sealed', () => {
    const packed = packFields(fields);
    assert.deepEqual(
      sealer.openPacked('org1', 'id-1', sealer.sealPacked('org1', 'id-1', packed)),
      packed,
    );
    assert.throws(() => sealer.openPacked('org1', 'id-2', sealer.seal('org1', 'id-1', fields)), {
      code: 'key_unavailable',
    });
  });
});

describe('data key wrapping', () => {
  it('binds a wrapped key to its KEK id and org', () => {
    const kek = randomBytes(32);
    const dek = randomBytes(32);
    const w = wrapKey(kek, 'local:1', 'org1', dek);
    assert.deepEqual(unwrapKey(kek, 'local:1', 'org1', w), dek);
    assert.throws(() => unwrapKey(kek, 'local:2', 'org1', w));
    assert.throws(() => unwrapKey(kek, 'local:1', 'org2', w));
    assert.throws(() => unwrapKey(randomBytes(32), 'local:1', 'org1', w));
  });
});

describe('data key cache', () => {
  function fixture() {
    let generation = 1;
    let unwraps = 0;
    let failing = false;
    const kek = randomBytes(32);
    const provider: KeyProvider = {
      generation: () => generation,
      wrap: (org, dek) => Promise.resolve({ kek: 'k', wrapped: wrapKey(kek, 'k', org, dek) }),
      unwrap: (k) => {
        unwraps++;
        if (failing)
          return Promise.reject(Object.assign(new Error('x'), { code: 'key_unavailable' }));
        return Promise.resolve(unwrapKey(kek, 'k', k.org, k.wrapped));
      },
      close: () => {},
    };
    const rows = new Map<string, WrappedDataKey>();
    const store: DataKeyStore = {
      get: (org) => Promise.resolve(rows.get(org)),
      create: (k) => {
        if (!rows.has(k.org)) rows.set(k.org, k);
        return Promise.resolve(rows.get(k.org) as WrappedDataKey);
      },
      list: () => Promise.resolve([...rows.values()]),
      rewrap: () => Promise.resolve(false),
    };
    let now = 0;
    const keys = createDataKeys(provider, store, { maxAgeMs: 1000, now: () => now });
    return {
      keys,
      rows,
      unwraps: () => unwraps,
      bump: () => generation++,
      tick: (ms: number) => (now += ms),
      fail: (f: boolean) => (failing = f),
    };
  }

  it('creates a key on the first write, none on a read, and unwraps once for many callers', async () => {
    const f = fixture();
    assert.equal(await f.keys.forRead('org1'), undefined);
    assert.equal(f.rows.size, 0);
    const [a, b] = await Promise.all([f.keys.forWrite('org1'), f.keys.forWrite('org1')]);
    assert.equal(f.rows.size, 1);
    assert.deepEqual(a, b);
    assert.equal(f.unwraps(), 1);
    assert.deepEqual(await f.keys.forRead('org1'), a);
    const n = f.unwraps();
    await f.keys.forRead('org1');
    assert.equal(f.unwraps(), n, 'served from the cache');
  });

  it('unwraps again after a key-state change or maxAge, and then fails closed', async () => {
    const f = fixture();
    await f.keys.forWrite('org1');
    const n = f.unwraps();
    f.bump();
    await f.keys.forRead('org1');
    assert.equal(f.unwraps(), n + 1);
    f.tick(1001);
    f.fail(true);
    await assert.rejects(f.keys.forRead('org1'), { code: 'key_unavailable' });
  });
});

describe('keyring version states', () => {
  it('treats a version past its deletion date as deleted', () => {
    const v: KeyVersion = {
      version: 1,
      state: 'pending_deletion',
      createdAt: '2026-01-01T00:00:00Z',
      material: null,
      deletionDate: '2026-02-01T00:00:00Z',
    };
    assert.equal(effectiveState(v, new Date('2026-01-31T00:00:00Z')), 'pending_deletion');
    assert.equal(effectiveState(v, new Date('2026-02-01T00:00:00Z')), 'deleted');
  });
});
