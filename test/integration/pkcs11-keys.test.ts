// The CA signing key, the KEK and the audit checkpoint key kept in a PKCS#11
// token (issue 15 item 3), against a real SoftHSM2 token made fresh for this
// file: `vulnvault init --pkcs11` generates the three keys in the token; the
// CA certificate, the CRL and every issued certificate are signed by the
// token (checked with node:crypto and openssl); a real vault serves over
// mTLS with the token's KEK and signs audit checkpoints in the token, which
// `audit verify` accepts; no file under DIR holds any of these private keys.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  verify,
  X509Certificate,
} from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openTokenSigningKey } from '../../src/audit/token-signing-key.js';
import { initDir, TOKEN_KEY_NAMES } from '../../src/cli/commands/init.js';
import { estSettings, loadConfig, type Config } from '../../src/config/config.js';
import { openEnrolStore } from '../../src/adapters/sqlite/enrol-store.js';
import { Token } from '../../src/crypto/pkcs11/token.js';
import { keyUriOn, parsePkcs11Uri } from '../../src/crypto/pkcs11/uri.js';
import { createCa } from '../../src/pki/issue.js';
import { openTokenCa } from '../../src/pki/token-ca.js';
import { runCli } from '../helpers/cli.js';
import { get, uploadScan, type Client } from '../helpers/scans.js';
import { makeSoftHsm, tryReadKeyValue, type SoftHsm } from '../helpers/softhsm.js';
import { call, demoRecord, pemPair, postJson, startVault } from '../helpers/vault.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile());
}

function openssl(args: string[]): { status: number | null; out: string } {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('CA, KEK and audit keys in a PKCS#11 token (SoftHSM2)', () => {
  let hsm: SoftHsm;
  let root: string;
  let dir: string;
  let config: Config;
  let tokenUri: string;

  before(async () => {
    hsm = makeSoftHsm('vulnvault');
    root = mkdtempSync(join(tmpdir(), 'vulnvault-pkcs11-'));
    dir = join(root, 'vv');
    tokenUri = `pkcs11:token=vulnvault?module-path=${hsm.module}`;
    const out: string[] = [];
    await initDir(
      dir,
      false,
      { write: (s: string) => out.push(s) },
      undefined,
      { write: () => true },
      {
        pkcs11: tokenUri,
      },
    );
    assert.match(out.join(''), /keys in a PKCS#11 token/);
    config = loadConfig(dir);
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
    hsm.cleanup();
  });

  it('init writes pkcs11: URIs for the three keys and no key file for any of them', () => {
    assert.equal(config.pki.caKey, keyUriOn(tokenUri, TOKEN_KEY_NAMES.ca));
    assert.equal(config.audit.signingKey, keyUriOn(tokenUri, TOKEN_KEY_NAMES.audit));
    assert.equal(config.keys.provider, 'pkcs11');
    assert.equal(config.keys.pkcs11?.kek, keyUriOn(tokenUri, TOKEN_KEY_NAMES.kek));
    for (const f of ['pki/ca.key', 'keys/audit-signing.key', 'keys/keyring.json']) {
      assert.ok(!existsSync(join(dir, f)), `${f} must not exist`);
    }
    assert.ok(!existsSync(`${dir}.key-admin`), 'no key-admin key: there is no keyring');
    // The config holds no PIN.
    assert.ok(!readFileSync(join(dir, 'vulnvault.json'), 'utf8').includes(hsm.pin));
    // A second init into the same token does not replace its keys.
    return assert.rejects(
      initDir(
        join(root, 'again'),
        false,
        { write: () => true },
        undefined,
        { write: () => true },
        {
          pkcs11: tokenUri,
        },
      ),
      /already holds a key 'vulnvault-ca'/,
    );
  });

  it('the CA certificate is self-signed by the token key; the token refuses to give the key out', () => {
    const caPem = readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8');
    const ca = new X509Certificate(caPem);
    assert.ok(ca.ca);
    assert.ok(ca.verify(ca.publicKey), 'self-signature verifies');
    const uri = parsePkcs11Uri(config.pki.caKey);
    const t = Token.open(uri);
    try {
      const pub = t.publicKey(uri, 'ec-p256').export({ type: 'spki', format: 'der' });
      assert.deepEqual(pub, ca.publicKey.export({ type: 'spki', format: 'der' }));
    } finally {
      t.close();
    }
    // Asked for the private keys' values, the token refuses (sensitive).
    for (const label of [TOKEN_KEY_NAMES.ca, TOKEN_KEY_NAMES.audit]) {
      assert.equal(tryReadKeyValue(hsm, label, 'private'), 'CKR_ATTRIBUTE_SENSITIVE');
    }
    assert.equal(tryReadKeyValue(hsm, TOKEN_KEY_NAMES.kek, 'secret'), 'CKR_ATTRIBUTE_SENSITIVE');
    const list = execFileSync(
      'pkcs11-tool',
      ['--module', hsm.module, '--token-label', hsm.label, '--login', '--pin', hsm.pin, '-O'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const priv = list.split(/\n(?=\S)/).filter((b) => b.startsWith('Private Key Object'));
    assert.equal(priv.length, 2, list); // the CA's (EC) and the audit key (EdDSA)
    for (const b of priv) {
      const access = (/Access:\s+(.*)/.exec(b)?.[1] ?? '').split(', ');
      assert.ok(access.includes('sensitive') && access.includes('never extractable'), b);
    }
  });

  it('pki issue and pki revoke sign a client certificate and the CRL in the token (openssl verifies both)', () => {
    const r = runCli([
      'pki',
      'issue',
      '--dir',
      dir,
      '--name',
      'tok',
      '--ou',
      'scanner',
      '--cn',
      'tok-1',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const caFile = join(dir, 'pki', 'ca.crt');
    const certFile = join(dir, 'pki', 'clients', 'tok.crt');
    const ca = new X509Certificate(readFileSync(caFile));
    const leaf = new X509Certificate(readFileSync(certFile));
    assert.ok(leaf.verify(ca.publicKey), 'signed by the token CA key');
    assert.ok(leaf.checkIssued(ca));
    const v = openssl(['verify', '-CAfile', caFile, '-purpose', 'sslclient', certFile]);
    assert.equal(v.status, 0, v.out);
    assert.match(v.out, /OK/);

    // renew signs a new certificate for the same subject with the token key.
    const rn = runCli(['pki', 'renew', '--dir', dir, '--name', 'customer']);
    assert.equal(rn.status, 0, rn.stderr);
    const renewed = join(dir, 'pki', 'clients', 'customer.crt');
    assert.equal(openssl(['verify', '-CAfile', caFile, renewed]).status, 0);
    assert.ok(new X509Certificate(readFileSync(renewed)).verify(ca.publicKey));

    const rv = runCli(['pki', 'revoke', '--dir', dir, '--name', 'tok']);
    assert.equal(rv.status, 0, rv.stderr);
    const crlFile = join(dir, 'pki', 'ca.crl');
    const crl = openssl(['crl', '-in', crlFile, '-CAfile', caFile, '-noout', '-text']);
    assert.equal(crl.status, 0, crl.out);
    assert.match(crl.out, /verify OK/);
    assert.match(crl.out, new RegExp(`Serial Number: ${leaf.serialNumber}`, 'i'));
    const revoked = openssl([
      'verify',
      '-crl_check',
      '-CAfile',
      caFile,
      '-CRLfile',
      crlFile,
      certFile,
    ]);
    assert.notEqual(revoked.status, 0);
    assert.match(revoked.out, /revoked/);
  });

  it("refuses a CA certificate that is not the token key's", async () => {
    const other = await createCa({ cn: 'other' }, new Date(Date.now() + 86_400_000));
    await assert.rejects(
      openTokenCa(other.certPem, config.pki.caKey),
      /the CA certificate does not belong to the key pkcs11:token=vulnvault;object=vulnvault-ca/,
    );
  });

  it('serves over mTLS with the token KEK and signs audit checkpoints in the token; audit verify accepts them', async () => {
    const ca = readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8');
    const scanner = pemPair(join(dir, 'pki', 'clients'), 'scanner');
    const customer = pemPair(join(dir, 'pki', 'clients'), 'customer');
    const v = await startVault({ ...config, audit: { ...config.audit, checkpointEvery: 2 } });
    try {
      const s: Client = { port: v.port, ca, cert: scanner };
      const c: Client = { port: v.port, ca, cert: customer };
      const up = await uploadScan(
        s,
        'org1',
        JSON.stringify({
          findings: [
            {
              asset: 'a',
              scanner: 's',
              pluginId: '1',
              title: 't',
              severity: 'low',
              evidence: 'token-evidence',
            },
          ],
        }),
        'application/json',
      );
      assert.equal(up.status, 201, up.text);
      const list = await get(c, '/v1/orgs/org1/findings');
      const one = await get(c, `/v1/orgs/org1/findings/${list.json.items[0].id as string}`);
      assert.equal(one.json.evidence, 'token-evidence');
      for (let i = 0; i < 3; i++) {
        await postJson(v.port, ca, scanner, demoRecord({ VulnID: `T-${i}` }));
        await call(v.port, { path: '/vuln?org=org1', ca, cert: customer });
      }
    } finally {
      await v.close();
    }
    const cps = readFileSync(join(dir, 'logs', 'authz.log.checkpoints'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(
        (l) =>
          JSON.parse(l) as { log: string; seq: number; hash: string; time: string; sig: string },
      );
    assert.ok(cps.length >= 2, 'checkpoints were written');
    const pub = readFileSync(join(dir, 'keys', 'audit-signing.pub'));
    const last = cps.at(-1)!;
    const payload = Buffer.from(
      `vulnvault-audit-checkpoint/v1\n${last.log}\n${last.seq}\n${last.hash}\n${last.time}`,
    );
    assert.ok(
      verify(null, payload, pub, Buffer.from(last.sig, 'base64')),
      'Ed25519 signature from the token',
    );
    const r = runCli(['audit', 'verify', '--dir', dir]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    // A signer opened on the token signs what the verify key accepts.
    const signer = openTokenSigningKey(config.audit.signingKey);
    try {
      const msg = Buffer.from('x');
      assert.ok(verify(null, msg, pub, signer.sign(msg)));
    } finally {
      signer.close();
    }
  });

  it("a verify key that is not the token key's stops the server; so does a missing token", async () => {
    const pubFile = join(dir, 'keys', 'audit-signing.pub');
    const saved = readFileSync(pubFile);
    writeFileSync(
      pubFile,
      generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }),
    );
    try {
      await assert.rejects(
        startVault(config),
        /is not the public key of pkcs11:token=vulnvault;object=vulnvault-audit/,
      );
    } finally {
      writeFileSync(pubFile, saved);
    }
    const gone = {
      ...config,
      audit: {
        ...config.audit,
        signingKey: config.audit.signingKey.replace('token=vulnvault', 'token=unplugged'),
      },
    };
    await assert.rejects(startVault(gone), /no PKCS#11 token labelled 'unplugged'/);
    const r = runCli(['pki', 'crl', '--dir', dir], { env: { VULNVAULT_PKCS11_PIN: 'wrong' } });
    assert.notEqual(r.status, 0);
    assert.match(
      r.stderr,
      /cannot log in to PKCS#11 token 'vulnvault': the PIN \(from VULNVAULT_PKCS11_PIN\) is wrong/,
    );
    assert.doesNotMatch(r.stderr, /at .*\.ts:/, 'one line, no stack');
  });

  it('EST enrolment is signed by the token CA key (openssl verifies the certificate)', async () => {
    const ca = readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8');
    const estConfig: Config = { ...config, pki: { ...config.pki, est: { enabled: true } } };
    const store = openEnrolStore(estSettings(estConfig).store);
    const grant = store.createToken('customer', 'token-ca-1', 60_000);
    store.close();
    const work = mkdtempSync(join(tmpdir(), 'est-token-ca-'));
    const v = await startVault(estConfig);
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-new',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-keyout',
          join(work, 'k.pem'),
          '-subj',
          '/OU=customer/CN=token-ca-1',
          '-outform',
          'DER',
          '-out',
          join(work, 'r.der'),
        ],
        { stdio: 'pipe' },
      );
      const r = await call(v.port, {
        method: 'POST',
        path: '/.well-known/est/simpleenroll',
        ca,
        body: readFileSync(join(work, 'r.der')).toString('base64'),
        headers: { 'content-type': 'application/pkcs10', authorization: `Bearer ${grant.token}` },
      });
      assert.equal(r.status, 200, r.text);
      writeFileSync(join(work, 'p7.der'), Buffer.from(r.text, 'base64'));
      const certs = openssl([
        'pkcs7',
        '-inform',
        'DER',
        '-in',
        join(work, 'p7.der'),
        '-print_certs',
        '-out',
        join(work, 'c.pem'),
      ]);
      assert.equal(certs.status, 0, certs.out);
      writeFileSync(join(work, 'ca.pem'), ca);
      const verified = openssl(['verify', '-CAfile', join(work, 'ca.pem'), join(work, 'c.pem')]);
      assert.equal(verified.status, 0, verified.out);
      assert.match(verified.out, /: OK/);
    } finally {
      await v.close();
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('no file under DIR holds a private key of the token (grep for PRIVATE KEY and PKCS#8 key bytes)', () => {
    // Only the TLS keys stay files: node:tls needs the server's, and the demo
    // clients' keys are theirs to take away. None of them is one of the three.
    const allowed = new Set([
      'pki/server.key',
      'pki/clients/scanner.key',
      'pki/clients/customer.key',
      'pki/clients/tok.key',
    ]);
    const pkcs8Ed25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
    const pkcs8EcP256 = Buffer.from(
      '308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420',
      'hex',
    );
    const offenders: string[] = [];
    for (const f of filesUnder(dir)) {
      const rel = relative(dir, f);
      if (allowed.has(rel)) continue;
      const b = readFileSync(f);
      if (b.includes('PRIVATE KEY') || b.includes(pkcs8Ed25519) || b.includes(pkcs8EcP256))
        offenders.push(rel);
    }
    assert.deepEqual(offenders, []);
    // grep itself, over the whole directory, agrees.
    const g = spawnSync('grep', ['-rl', 'PRIVATE KEY', dir], { encoding: 'utf8' });
    const hits = g.stdout
      .split('\n')
      .filter(Boolean)
      .map((f) => relative(dir, f));
    assert.deepEqual(
      hits.filter((h) => !allowed.has(h)),
      [],
    );
    // Each allowed file is a TLS key whose public half is a TLS certificate's, not the CA's.
    const caKey = new X509Certificate(readFileSync(join(dir, 'pki', 'ca.crt'))).publicKey.export({
      type: 'spki',
      format: 'der',
    });
    for (const h of hits) {
      const pub = createPublicKey(createPrivateKey(readFileSync(join(dir, h)))).export({
        type: 'spki',
        format: 'der',
      });
      assert.ok(!pub.equals(caKey), `${h} is not the CA key`);
    }
  });
});
