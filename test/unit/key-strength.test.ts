import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { weakKeyReason } from '../../src/edge/key-strength.js';
import { createCa, type PemPair } from '../../src/pki/issue.js';
import { clientCertWithKey, type KeySpec } from '../helpers/client-keys.js';

describe('client key strength', () => {
  let ca: PemPair;
  before(async () => {
    ca = await createCa({ cn: 'key test CA' }, new Date(Date.now() + 86_400_000));
  });
  const reason = async (spec: KeySpec, min = 2048) =>
    weakKeyReason(new X509Certificate((await clientCertWithKey(ca, spec, 'x')).certPem), min);

  it('refuses EC curves other than P-256, P-384 and P-521 by name', async () => {
    // OpenSSL already refuses these in the handshake (no TLS 1.3 scheme, not
    // in the TLS 1.2 curve list); this check holds should that ever change.
    for (const curve of ['secp256k1', 'prime192v1', 'brainpoolP256r1']) {
      assert.equal(
        await reason({ type: 'ec', curve }),
        `client key curve not allowed: ${curve} (allowed: P-256, P-384, P-521)`,
      );
    }
  });

  it('refuses RSA below the minimum, PSS keys included', async () => {
    assert.match((await reason({ type: 'rsa-pss', bits: 1024 })) ?? '', /RSA 1024 bits/);
    assert.equal(
      await reason({ type: 'rsa', bits: 2048 }, 4096),
      'client key too weak: RSA 2048 bits (minimum 4096)',
    );
  });

  it('accepts the allowed kinds', async () => {
    for (const spec of [
      { type: 'rsa', bits: 2048 },
      { type: 'ec', curve: 'prime256v1' },
      { type: 'ec', curve: 'secp384r1' },
      { type: 'ec', curve: 'secp521r1' },
      { type: 'ed25519' },
    ] as KeySpec[]) {
      assert.equal(await reason(spec), undefined, JSON.stringify(spec));
    }
  });
});
