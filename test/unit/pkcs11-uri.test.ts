// RFC 7512 pkcs11: URIs as the config names keys in a token.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CONFIG_FILE, defaultConfigFile, loadConfig } from '../../src/config/config.js';
import { TokenError } from '../../src/crypto/pkcs11/token-error.js';
import { keyUriOn, parsePkcs11Uri, redact } from '../../src/crypto/pkcs11/uri.js';

describe('pkcs11: URIs', () => {
  it('reads token, object, id, serial, module-path and pin-source; the name drops the query', () => {
    const u = parsePkcs11Uri(
      'pkcs11:token=My%20HSM;object=ca%3Bkey;id=%01%02;serial=42?module-path=/usr/lib/x.so&pin-source=file:/etc/pin',
    );
    assert.equal(u.token, 'My HSM');
    assert.equal(u.object, 'ca;key');
    assert.deepEqual(u.id, Buffer.from([1, 2]));
    assert.equal(u.serial, '42');
    assert.equal(u.modulePath, '/usr/lib/x.so');
    assert.equal(u.pinSource, '/etc/pin');
    assert.equal(u.name, 'pkcs11:token=My%20HSM;object=ca%3Bkey;id=%01%02;serial=42');
  });

  it('refuses a PIN in the URI, without repeating it', () => {
    assert.throws(
      () => parsePkcs11Uri('pkcs11:token=t;object=k?pin-value=123456'),
      (err: unknown) =>
        err instanceof TokenError &&
        /never kept in the config/.test(err.message) &&
        !err.message.includes('123456'),
    );
    assert.equal(
      redact('pkcs11:token=t?pin-value=9&x=1'),
      'pkcs11:token=t?pin-value=(removed)&x=1',
    );
  });

  it('refuses a URI without token or object, with unknown attributes or bad escapes', () => {
    for (const bad of [
      'pkcs11:object=k',
      'pkcs11:token=t',
      'pkcs11:token=t;object=k;slot=1',
      'pkcs11:token=t;object=k?foo=1',
      'pkcs11:token=t;object=%zz',
      'file:/tmp/key.pem',
    ]) {
      assert.throws(() => parsePkcs11Uri(bad), TokenError, bad);
    }
  });

  it('names a key on a token URI', () => {
    assert.equal(
      keyUriOn('pkcs11:token=vv?module-path=/m.so', 'vulnvault-kek'),
      'pkcs11:token=vv;object=vulnvault-kek?module-path=/m.so',
    );
    assert.equal(keyUriOn('pkcs11:token=vv;object=old', 'new'), 'pkcs11:token=vv;object=new');
  });

  it('the config accepts pkcs11: URIs for the three keys and refuses a provider without its URI or a bad URI', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vulnvault-cfg-'));
    const load = (edit: (c: Record<string, any>) => void) => {
      const c = defaultConfigFile() as unknown as Record<string, any>;
      edit(c);
      writeFileSync(join(dir, CONFIG_FILE), JSON.stringify(c));
      return loadConfig(dir);
    };
    try {
      const uri = (o: string) => `pkcs11:token=vv;object=${o}?module-path=/m.so`;
      const c = load((c) => {
        c.pki.caKey = uri('ca');
        c.audit.signingKey = uri('audit');
        c.keys.provider = 'pkcs11';
        c.keys.pkcs11 = { kek: uri('kek') };
      });
      assert.equal(c.keys.pkcs11?.kek, uri('kek'));
      assert.throws(
        () => load((c) => (c.keys.provider = 'pkcs11')),
        /\/keys\/pkcs11 \(kek: a pkcs11: URI\) is missing/,
      );
      assert.throws(
        () => load((c) => (c.pki.caKey = 'pkcs11:token=vv;object=ca?pin-value=1234')),
        (err: unknown) =>
          err instanceof Error &&
          /\/pki\/caKey: .*never kept/.test(err.message) &&
          !err.message.includes('1234'),
      );
      assert.throws(
        () =>
          load((c) => {
            c.keys.provider = 'pkcs11';
            c.keys.pkcs11 = { kek: '/etc/kek.bin' };
          }),
        /pkcs11/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
