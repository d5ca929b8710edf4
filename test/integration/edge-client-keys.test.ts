// IAM 1.1 client key strength at the handshake: a certificate from the
// configured CA is still refused when its key is weak (RSA below
// tls.minClientRsaBits, an EC curve other than P-256/P-384/P-521, a key type
// outside the allow-list), the connection is closed before HTTP, and the
// authorization log says why. Strong keys of every allowed kind are served,
// over TLS 1.3 and 1.2, and `pki issue` makes only such keys.

import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { clientCertWithKey, type KeySpec } from '../helpers/client-keys.js';
import { edgeCall, startEdge, withConfig } from '../helpers/edge.js';
import {
  call,
  makeTestDir,
  readAuthzLog,
  type RunningVault,
  type TestDir,
} from '../helpers/vault.js';
import type { PemPair } from '../../src/pki/issue.js';

const VERSIONS = ['TLSv1.3', 'TLSv1.2'] as const;

describe('client key strength', () => {
  let t: TestDir;
  let srv: RunningVault;
  before(async () => {
    t = await makeTestDir();
    srv = await startEdge(t.config);
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });

  const get = (cert: PemPair, maxVersion: (typeof VERSIONS)[number], port = srv.port) =>
    call(port, { path: '/healthz', ca: t.ca.certPem, cert, tls: { maxVersion } });
  const refused = (p: Promise<unknown>) =>
    p.then(
      () => false,
      () => true,
    );
  /** The connect-time refusals logged for a certificate (by serial). */
  const reasons = (cert: PemPair) => {
    const serial = new X509Certificate(cert.certPem).serialNumber;
    return readAuthzLog(t.dir)
      .filter((e) => e.action === 'connect' && e.principal.serial === serial)
      .map((e) => e.reason as string);
  };

  it('refuses an RSA 1024 key at the handshake and logs the reason', async () => {
    const weak = await clientCertWithKey(t.ca, { type: 'rsa', bits: 1024 }, 'scanner');
    for (const v of VERSIONS) assert.ok(await refused(get(weak, v)), v);
    assert.deepEqual(reasons(weak), [
      'client key too weak: RSA 1024 bits (minimum 2048)',
      'client key too weak: RSA 1024 bits (minimum 2048)',
    ]);
  });

  it('refuses EC keys on secp256k1 and P-192', async () => {
    for (const curve of ['secp256k1', 'prime192v1']) {
      const weak = await clientCertWithKey(t.ca, { type: 'ec', curve }, 'scanner');
      const before = readAuthzLog(t.dir).length;
      // TLS 1.3 has no signature scheme for these curves: the client cannot
      // prove the key and sends no certificate. TLS 1.2: OpenSSL refuses the
      // curve (it is not in the server's list) and the gate names it.
      assert.ok(await refused(get(weak, 'TLSv1.3')), `${curve} TLS 1.3`);
      assert.ok(await refused(get(weak, 'TLSv1.2')), `${curve} TLS 1.2`);
      const logged = readAuthzLog(t.dir)
        .slice(before)
        .filter((e) => e.action === 'connect')
        .map((e) => e.reason as string);
      assert.deepEqual(
        logged,
        ['no certificate', 'client key curve not allowed (allowed: P-256, P-384, P-521)'],
        curve,
      );
    }
  });

  it('refuses a key type outside the allow-list (Ed448) that OpenSSL would accept', async () => {
    const odd = await clientCertWithKey(t.ca, { type: 'ed448' }, 'scanner');
    assert.ok(await refused(get(odd, 'TLSv1.3')));
    assert.deepEqual(reasons(odd), [
      'client key type not allowed: ed448 (allowed: RSA, EC P-256, P-384, P-521, Ed25519)',
    ]);
  });

  it('accepts RSA 2048 (PKCS#1 and PSS), P-256, P-384, P-521 and Ed25519 keys', async () => {
    const specs: KeySpec[] = [
      { type: 'rsa', bits: 2048 },
      { type: 'rsa-pss', bits: 2048 },
      { type: 'ec', curve: 'prime256v1' },
      { type: 'ec', curve: 'secp384r1' },
      { type: 'ec', curve: 'secp521r1' },
      { type: 'ed25519' },
    ];
    for (const spec of specs) {
      const cert = await clientCertWithKey(t.ca, spec, 'customer');
      for (const v of VERSIONS) {
        const r = await get(cert, v);
        assert.equal(r.status, 200, `${JSON.stringify(spec)} ${v}`);
      }
      // And it is a usable identity, not only a handshake.
      const read = await edgeCall(srv.port, { path: '/vuln?org=org1', ca: t.ca.certPem, cert });
      assert.equal(read.status, 200, JSON.stringify(spec));
    }
  });

  it('refuses RSA 2048 when tls.minClientRsaBits is raised to 3072', async () => {
    const strict = await startEdge(withConfig(t.config, { tls: { minClientRsaBits: 3072 } }));
    try {
      const rsa2048 = await clientCertWithKey(t.ca, { type: 'rsa', bits: 2048 }, 'customer');
      assert.ok(await refused(get(rsa2048, 'TLSv1.3', strict.port)));
      assert.deepEqual(reasons(rsa2048), ['client key too weak: RSA 2048 bits (minimum 3072)']);
      assert.equal((await get(t.customer, 'TLSv1.3', strict.port)).status, 200, 'P-256 still');
    } finally {
      await strict.close();
    }
  });

  it('pki issue makes P-256 keys only', () => {
    const r = runCli(['pki', 'issue', '--dir', t.dir, '--name', 'k1', '--ou', 'x', '--cn', 'k1']);
    assert.equal(r.status, 0, r.stderr);
    const key = createPrivateKey(readFileSync(join(t.dir, 'pki', 'clients', 'k1.key')));
    assert.equal(key.asymmetricKeyType, 'ec');
    assert.equal(key.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });
});
