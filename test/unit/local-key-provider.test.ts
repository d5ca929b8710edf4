// The local keyring provider: after a rotation the old version still unwraps
// (until disabled), new keys are wrapped under the new primary, and a keyring
// replaced without the key-admin signature, or by an older signed copy, is
// not loaded.

import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { DataKeyStore } from '../../src/core/keys.js';
import { changeState, createKeyring, rotate } from '../../src/crypto/key-admin.js';
import { createLocalKeyProvider } from '../../src/crypto/local-key-provider.js';

const noKeys: DataKeyStore = {
  get: () => Promise.resolve(undefined),
  create: (k) => Promise.resolve(k),
  list: () => Promise.resolve([]),
  rewrap: () => Promise.resolve(false),
};

describe('local keyring provider', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vulnvault-keyring-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'keyring.json');
  const admin = generateKeyPairSync('ed25519');
  const ctx = { keyringFile: file, adminPublicKey: admin.publicKey };
  createKeyring(file, admin.privateKey);
  const errors: string[] = [];
  const provider = createLocalKeyProvider({
    file,
    adminPublicKey: admin.publicKey,
    reloadIntervalMs: 0,
    onReloadError: (e) => errors.push(e.message),
  });

  it('keeps unwrapping under an older version after a rotation, until it is disabled', async () => {
    const dek = randomBytes(32);
    const old = await provider.wrap('org1', dek);
    assert.equal(old.kek, 'local:1');
    const g = provider.generation();
    await rotate(ctx, admin.privateKey, noKeys, 0);
    assert.ok(provider.generation() > g, 'the change is seen');
    assert.deepEqual(await provider.unwrap({ org: 'org1', ...old }), dek);
    assert.equal((await provider.wrap('org1', dek)).kek, 'local:2');
    changeState(ctx, admin.privateKey, [], 'disable', 1);
    provider.generation();
    await assert.rejects(provider.unwrap({ org: 'org1', ...old }), { code: 'key_unavailable' });
  });

  it('does not load an unsigned edit or an older signed keyring', async () => {
    const signed = readFileSync(file, 'utf8');
    copyFileSync(file, join(dir, 'older.json'));
    changeState(ctx, admin.privateKey, [], 'enable', 1);
    const g = provider.generation();
    // Older (valid signature, lower serial): refused.
    copyFileSync(join(dir, 'older.json'), file);
    assert.equal(provider.generation(), g);
    assert.match(errors.at(-1) ?? '', /older than the loaded/);
    // Edited without the signature: refused.
    const edited = JSON.parse(signed) as { serial: number };
    edited.serial += 10;
    writeFileSync(file, JSON.stringify(edited), { mode: 0o600 });
    assert.equal(provider.generation(), g);
    assert.match(errors.at(-1) ?? '', /not signed by the key-admin key/);
    // The keyring in memory is still the last good one: version 1 enabled.
    const w = await provider.wrap('org2', randomBytes(32));
    assert.equal(w.kek, 'local:2');
  });
});
