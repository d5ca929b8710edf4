// The key-encryption key kept in a PKCS#11 token (issue 15 item 3), against a
// real SoftHSM2 token made fresh for this file (test/helpers/softhsm.ts): no
// mock of the token. Data keys are wrapped and unwrapped by AES-256-GCM
// inside the token, bound to the org; a vault configured with keys.provider
// 'pkcs11' serves over real mTLS; a missing module, a missing token, a wrong
// or missing PIN, a missing or extractable key each stop it with one clear
// line, never a fallback to the keyring file.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { openKeyProvider } from '../../src/crypto/key-provider-from-config.js';
import { createPkcs11KeyProvider } from '../../src/crypto/pkcs11-key-provider.js';
import { Token } from '../../src/crypto/pkcs11/token.js';
import { TokenError } from '../../src/crypto/pkcs11/token-error.js';
import { parsePkcs11Uri } from '../../src/crypto/pkcs11/uri.js';
import { get, uploadScan, type Client } from '../helpers/scans.js';
import { makeSoftHsm, type SoftHsm } from '../helpers/softhsm.js';
import { makeTestDir, startVault } from '../helpers/vault.js';

describe('PKCS#11 key-encryption key (SoftHSM2)', () => {
  let hsm: SoftHsm;
  let kek: string;
  before(() => {
    hsm = makeSoftHsm();
    kek = hsm.uri('vulnvault-kek');
    const t = Token.open(parsePkcs11Uri(kek));
    try {
      t.generate(parsePkcs11Uri(kek), 'aes-256');
    } finally {
      t.close();
    }
  });
  after(() => hsm.cleanup());

  it('wraps a data key inside the token and unwraps it only for the same org, untampered', async () => {
    const p = createPkcs11KeyProvider({ kek });
    try {
      const dek = randomBytes(32);
      const w = await p.wrap('org1', dek);
      assert.equal(w.kek, kek.split('?')[0]);
      assert.equal(w.wrapped.length, 1 + 12 + 32 + 16);
      assert.ok(!w.wrapped.includes(dek), 'the wrapped key does not hold the key');
      assert.deepEqual(await p.unwrap({ org: 'org1', ...w }), dek);
      // Two wraps of the same key differ (random IV).
      assert.notDeepEqual((await p.wrap('org1', dek)).wrapped, w.wrapped);
      await assert.rejects(p.unwrap({ org: 'org2', ...w }), { code: 'key_unavailable' });
      const bad = Buffer.from(w.wrapped);
      bad[20] = (bad[20] ?? 0) ^ 1;
      await assert.rejects(p.unwrap({ org: 'org1', kek: w.kek, wrapped: bad }), {
        code: 'key_unavailable',
      });
      await assert.rejects(p.unwrap({ org: 'org1', kek: 'local:1', wrapped: w.wrapped }), {
        code: 'key_unavailable',
      });
    } finally {
      p.close();
    }
  });

  it('unwraps with a new session what an earlier one wrapped (the key lives in the token)', async () => {
    const a = createPkcs11KeyProvider({ kek });
    const dek = randomBytes(32);
    const w = await a.wrap('org1', dek);
    a.close();
    const b = createPkcs11KeyProvider({ kek });
    try {
      assert.deepEqual(await b.unwrap({ org: 'org1', ...w }), dek);
    } finally {
      b.close();
    }
    await assert.rejects(a.wrap('org1', dek), { code: 'key_unavailable' });
  });

  it('keeps the key sensitive and non-extractable in the token', () => {
    // pkcs11-tool (OpenSC) reads the attributes the token reports.
    const out = execFileSync(
      'pkcs11-tool',
      ['--module', hsm.module, '--token-label', hsm.label, '--login', '--pin', hsm.pin, '-O'],
      { env: process.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const block = out.split(/\n(?=\S)/).find((b) => b.includes('vulnvault-kek')) ?? '';
    assert.match(block, /Secret Key Object; AES length 32/);
    const access = (/Access:\s+(.*)/.exec(block)?.[1] ?? '').split(', ');
    assert.ok(access.includes('sensitive'), block);
    assert.ok(access.includes('never extractable'), block);
    assert.ok(!access.includes('extractable'), block);
    assert.match(block, /Usage:\s+encrypt, decrypt\n/);
  });

  it('fails closed with one clear line: no module, no token, no or a wrong PIN, no key, an extractable key', () => {
    const refused = (uri: string, re: RegExp) =>
      assert.throws(
        () => createPkcs11KeyProvider({ kek: uri }),
        (err: unknown) =>
          err instanceof TokenError && re.test(err.message) && !err.message.includes(hsm.pin),
      );
    refused(
      kek.replace(/module-path=.*/, 'module-path=/nonexistent/libpkcs11.so'),
      /cannot load the PKCS#11 module \/nonexistent\/libpkcs11\.so/,
    );
    refused(
      kek.replace(`token=${hsm.label}`, 'token=not-plugged-in'),
      /no PKCS#11 token labelled 'not-plugged-in'.*tokens present: 'vulnvault-test'/,
    );
    refused(
      hsm.uri('no-such-key'),
      /no secret key 'no-such-key' on PKCS#11 token 'vulnvault-test'/,
    );
    refused(`${kek}&pin-value=1234`, /never kept in the config/);
    const pin = process.env.VULNVAULT_PKCS11_PIN;
    try {
      process.env.VULNVAULT_PKCS11_PIN = 'wrong-pin';
      refused(
        kek,
        /cannot log in to PKCS#11 token 'vulnvault-test': the PIN \(from VULNVAULT_PKCS11_PIN\) is wrong/,
      );
      delete process.env.VULNVAULT_PKCS11_PIN;
      refused(kek, /no PIN for PKCS#11 token 'vulnvault-test': set VULNVAULT_PKCS11_PIN/);
      // A PIN file readable by others is refused; a 0600 one works.
      const pinFile = join(hsm.dir, 'pin');
      writeFileSync(pinFile, `${hsm.pin}\n`);
      chmodSync(pinFile, 0o644); // whatever the umask

      refused(`${kek}&pin-source=file:${pinFile}`, /readable by group or others/);
      chmodSync(pinFile, 0o600);
      createPkcs11KeyProvider({ kek: `${kek}&pin-source=file:${pinFile}` }).close();
    } finally {
      process.env.VULNVAULT_PKCS11_PIN = pin;
    }
    // A key that could leave the token is not used.
    execFileSync(
      'pkcs11-tool',
      [
        '--module',
        hsm.module,
        '--token-label',
        hsm.label,
        '--login',
        '--pin',
        hsm.pin,
        '--keygen',
        '--key-type',
        'AES:32',
        '--label',
        'weak-kek',
        '--extractable',
      ],
      { env: process.env, stdio: 'ignore' },
    );
    refused(hsm.uri('weak-kek'), /extractable or not sensitive/);
  });

  it('serves a vault whose data keys the token wraps; a wrong PIN stops it at start, no fallback', async () => {
    const t = await makeTestDir();
    try {
      const cfgFile = join(t.dir, 'vulnvault.json');
      const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, any>;
      cfg.keys = { ...cfg.keys, provider: 'pkcs11', cacheSeconds: 1, pkcs11: { kek } };
      writeFileSync(cfgFile, JSON.stringify(cfg));
      const config = loadConfig(t.dir);
      const v = await startVault(config);
      let id: string;
      try {
        const scanner: Client = { port: v.port, ca: t.ca.certPem, cert: t.scanner };
        const reader: Client = { port: v.port, ca: t.ca.certPem, cert: t.customer };
        const body = JSON.stringify({
          findings: [
            {
              asset: 'a',
              scanner: 's',
              pluginId: '1',
              title: 't',
              severity: 'low',
              evidence: 'hsm-evidence',
            },
          ],
        });
        const up = await uploadScan(scanner, 'org1', body, 'application/json');
        assert.equal(up.status, 201, up.text);
        id = (await get(reader, '/v1/orgs/org1/findings')).json.items[0].id as string;
        const one = await get(reader, `/v1/orgs/org1/findings/${id}`);
        assert.equal(one.json.evidence, 'hsm-evidence');
      } finally {
        await v.close();
      }
      // The data key stored in the database is wrapped under the token's key.
      const Database = (await import('better-sqlite3')).default;
      const db = new Database(join(t.dir, config.storage.findings), { readonly: true });
      try {
        const rows = db.prepare('SELECT kek FROM data_keys').all() as { kek: string }[];
        assert.deepEqual(
          rows.map((r) => r.kek),
          [kek.split('?')[0]],
        );
      } finally {
        db.close();
      }
      const pin = process.env.VULNVAULT_PKCS11_PIN;
      process.env.VULNVAULT_PKCS11_PIN = 'wrong-pin';
      try {
        await assert.rejects(
          openKeyProvider(config),
          /the PIN \(from VULNVAULT_PKCS11_PIN\) is wrong/,
        );
        await assert.rejects(startVault(config), /PKCS#11 token 'vulnvault-test'/);
      } finally {
        process.env.VULNVAULT_PKCS11_PIN = pin;
      }
    } finally {
      t.cleanup();
    }
  });
});
