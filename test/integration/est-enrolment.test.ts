// Issue 15: certificates a client enrols and renews itself over EST (RFC
// 7030), over real TLS against a real server, with the real CLI on the client
// side and CSRs made by OpenSSL. Enrolment with a one-time token (refused a
// second time, when expired, for another OU); re-enrolment with a valid
// certificate, refused with a revoked or expired one or for another subject;
// `cert renew` idle when not due and renewing when due; an upload with a
// certificate 5 minutes from expiry renews first; weak keys refused; the
// authorization log records each issuance; rate limits per address.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import {
  lstatSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONFIG_FILE, estSettings, loadConfig, type Config } from '../../src/config/config.js';
import { installGeneration } from '../../src/client/est-client.js';
import { openEnrolStore } from '../../src/adapters/sqlite/enrol-store.js';
import { issueClientCertificate } from '../../src/pki/dev-pki.js';
import { runCliAsync, startProcess as startWatch } from '../helpers/cli.js';
import { sleep } from '../helpers/edge.js';
import {
  call,
  makeTestDir,
  readAuthzLog,
  startVault,
  waitFor,
  type RunningVault,
  type TestDir,
} from '../helpers/vault.js';
import type { PemPair } from '../../src/pki/issue.js';

const NESSUS = join(import.meta.dirname, '../fixtures/nessus/nessus_with_cvssv3.nessus');

/** Turns EST on in the directory's config file (the CLI reads it) and returns the config. */
function enableEst(dir: string, est: Record<string, unknown> = { enabled: true }): Config {
  const file = join(dir, CONFIG_FILE);
  const json = JSON.parse(readFileSync(file, 'utf8')) as { pki: Record<string, unknown> };
  json.pki.est = est;
  writeFileSync(file, JSON.stringify(json, null, 2));
  return loadConfig(dir);
}

function opensslCsr(subj: string, keyArgs: string[]): string {
  const work = mkdtempSync(join(tmpdir(), 'est-openssl-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-new',
        ...keyArgs,
        '-nodes',
        '-keyout',
        join(work, 'k.pem'),
        '-subj',
        subj,
        '-outform',
        'DER',
        '-out',
        join(work, 'r.der'),
      ],
      { stdio: 'pipe' },
    );
    return readFileSync(join(work, 'r.der')).toString('base64');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The certificates of a base64 PKCS#7, read by OpenSSL. */
function opensslPkcs7(b64: string): X509Certificate[] {
  const pem = execFileSync('openssl', ['pkcs7', '-inform', 'DER', '-print_certs'], {
    input: Buffer.from(b64.replace(/\s+/g, ''), 'base64'),
  }).toString('utf8');
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (p) => new X509Certificate(p),
  );
}

describe('EST enrolment and renewal', () => {
  let t: TestDir;
  let config: Config;
  let srv: RunningVault;
  let work: string;
  let caFile: string;
  before(async () => {
    t = await makeTestDir();
    config = enableEst(t.dir, { enabled: true, perMinute: 1000 });
    srv = await startVault(config);
    work = mkdtempSync(join(tmpdir(), 'est-client-'));
    caFile = join(work, 'ca.crt');
    writeFileSync(caFile, t.ca.certPem);
  });
  after(async () => {
    await srv.close();
    t.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  const token = async (ou: string, cn: string, ttl = '1h') => {
    const r = await runCliAsync([
      'pki',
      'enroll-token',
      '--dir',
      t.dir,
      '--ou',
      ou,
      '--cn',
      cn,
      '--ttl',
      ttl,
    ]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  const enrol = (body: string, tok: string | undefined, cert?: PemPair) =>
    call(srv.port, {
      method: 'POST',
      path: cert ? '/.well-known/est/simplereenroll' : '/.well-known/est/simpleenroll',
      ca: t.ca.certPem,
      cert,
      body,
      headers: {
        'content-type': 'application/pkcs10',
        ...(tok !== undefined
          ? { authorization: `Basic ${Buffer.from(`client:${tok}`).toString('base64')}` }
          : {}),
      },
    });
  const pairOf = (dir: string): PemPair => ({
    certPem: readFileSync(join(dir, 'client.crt'), 'utf8'),
    keyPem: readFileSync(join(dir, 'client.key'), 'utf8'),
  });
  const readFindings = (cert: PemPair) =>
    call(srv.port, { path: '/v1/orgs/org1/findings', ca: t.ca.certPem, cert });

  it('serves the CA as a certs-only PKCS#7 to a client without a certificate', async () => {
    const r = await call(srv.port, { path: '/.well-known/est/cacerts', ca: t.ca.certPem });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^application\/pkcs7-mime/);
    const certs = opensslPkcs7(r.text);
    assert.equal(certs.length, 1);
    assert.equal(certs[0]?.fingerprint256, new X509Certificate(t.ca.certPem).fingerprint256);
  });

  it('still refuses the API to a client without a certificate', async () => {
    const r = await call(srv.port, { path: '/v1/orgs/org1/findings', ca: t.ca.certPem });
    assert.equal(r.status, 401);
    assert.equal(r.json.code, 'unauthenticated');
  });

  let enrolled = '';
  it('enrols with a token (cert enroll): key made on the client, 0600, the certificate reads the API', async () => {
    const tok = await token('customer', 'console-1');
    assert.match(tok, /^vvenr_[A-Za-z0-9_-]{43}$/);
    // The store keeps only a hash of it.
    assert.ok(!readFileSync(estSettings(config).store).includes(Buffer.from(tok)));
    enrolled = join(work, 'enrolled');
    const r = await runCliAsync([
      'cert',
      'enroll',
      '--url',
      srv.url,
      '--token',
      tok,
      '--ca',
      caFile,
      '--out',
      enrolled,
    ]);
    assert.equal(r.status, 0, r.stderr);
    const pair = pairOf(enrolled);
    const cert = new X509Certificate(pair.certPem);
    assert.match(cert.subject, /OU=customer/);
    assert.match(cert.subject, /CN=console-1/);
    assert.equal(Date.parse(cert.validTo) - Date.parse(cert.validFrom), 24 * 3_600_000);
    assert.equal(statSync(join(enrolled, 'client.key')).mode & 0o777, 0o600);
    assert.ok(lstatSync(join(enrolled, 'current')).isSymbolicLink());
    assert.equal((await readFindings(pair)).status, 200);
    // The authorization log: who, serial, subject, expiry; never the token.
    const logged = readAuthzLog(t.dir).filter((e) => e.action === 'pki:enroll');
    const ok = logged.find((e) => e.decision === 'allow');
    assert.ok(ok, 'issuance logged');
    assert.equal(ok.principal.name, 'customer');
    assert.equal(ok.principal.id, 'console-1');
    assert.equal(ok.principal.serial, cert.serialNumber);
    assert.match(
      ok.reason,
      new RegExp(
        `serial ${cert.serialNumber}.*expires ${new Date(cert.validTo).toISOString().slice(0, 16)}`,
      ),
    );
    assert.ok(!JSON.stringify(readAuthzLog(t.dir)).includes(tok), 'the token is never logged');
    assert.match(ok.reason, /; token et_[0-9a-f]{12}$/, 'the token id is');
  });

  it('refuses the same token a second time, an expired token, and an unknown one', async () => {
    const tok = await token('customer', 'console-2');
    const csr = opensslCsr('/OU=customer/CN=console-2', [
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
    ]);
    assert.equal((await enrol(csr, tok)).status, 200);
    const again = await enrol(csr, tok);
    assert.equal(again.status, 401);
    assert.equal(again.json.code, 'enrollment_token_invalid');
    assert.match(again.json.message, /used already/);

    const store = openEnrolStore(estSettings(config).store);
    const short = store.createToken('customer', 'console-3', 50);
    store.close();
    await sleep(100);
    const expired = await enrol(csr, short.token);
    assert.equal(expired.status, 401);
    assert.match(expired.json.message, /expired/);

    const unknown = await enrol(csr, `vvenr_${'A'.repeat(43)}`);
    assert.equal(unknown.status, 401);
    assert.match(unknown.json.message, /not known/);
    const none = await enrol(csr, undefined);
    assert.equal(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /^Basic/);
  });

  it('refuses a CSR for another OU or CN, and keeps the token usable', async () => {
    const tok = await token('customer', 'console-4');
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    for (const subj of [
      '/OU=scanner/CN=console-4',
      '/OU=customer/CN=someone-else',
      '/OU=customer/OU=scanner/CN=console-4',
    ]) {
      const r = await enrol(opensslCsr(subj, ec), tok);
      assert.equal(r.status, 403, subj);
      assert.equal(r.json.code, 'csr_not_allowed');
    }
    // Nothing was issued with it: the right CSR still enrols.
    const ok = await enrol(opensslCsr('/OU=customer/CN=console-4', ec), tok);
    assert.equal(ok.status, 200);
    const [cert] = opensslPkcs7(ok.text);
    assert.match(cert?.subject ?? '', /OU=customer/);
  });

  it('accepts OpenSSL CSRs (P-384, RSA 3072) and refuses weak keys and garbage', async () => {
    for (const [cn, args] of [
      ['ossl-p384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384']],
      ['ossl-rsa', ['-newkey', 'rsa:3072']],
    ] as const) {
      const r = await enrol(
        opensslCsr(`/OU=customer/CN=${cn}`, [...args]),
        await token('customer', cn),
      );
      assert.equal(r.status, 200, cn);
    }
    const tok = await token('customer', 'weak');
    const weak = await enrol(opensslCsr('/OU=customer/CN=weak', ['-newkey', 'rsa:1024']), tok);
    assert.equal(weak.status, 400);
    assert.equal(weak.json.code, 'csr_key_weak');
    assert.match(weak.json.message, /RSA 1024 bits \(minimum 2048\)/);
    const k1 = await enrol(
      opensslCsr('/OU=customer/CN=weak', [
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:secp256k1',
      ]),
      tok,
    );
    assert.equal(k1.status, 400);
    assert.equal(k1.json.code, 'csr_key_weak');
    const junk = await enrol('bm90IGEgY3Ny', tok);
    assert.equal(junk.status, 400);
    assert.equal(junk.json.code, 'csr_invalid');
    // A CSR whose signature does not match its key: one byte of the signature flipped.
    const good = Buffer.from(
      opensslCsr('/OU=customer/CN=weak', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']),
      'base64',
    );
    good.writeUInt8((good.readUInt8(good.length - 3) ^ 0x01) & 0xff, good.length - 3);
    const forged = await enrol(good.toString('base64'), tok);
    assert.equal(forged.status, 400);
    assert.equal(forged.json.code, 'csr_invalid');
    const wrongType = await call(srv.port, {
      method: 'POST',
      path: '/.well-known/est/simpleenroll',
      ca: t.ca.certPem,
      body: '{}',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tok}` },
    });
    assert.equal(wrongType.status, 415);
  });

  it('re-enrols with the current certificate: same subject, new key and serial (cert renew --force)', async () => {
    const before = pairOf(enrolled);
    const r = await runCliAsync(['cert', 'renew', '--dir', enrolled, '--force']);
    assert.equal(r.status, 0, r.stderr);
    const now = pairOf(enrolled);
    const a = new X509Certificate(before.certPem);
    const b = new X509Certificate(now.certPem);
    assert.equal(b.subject, a.subject);
    assert.notEqual(b.serialNumber, a.serialNumber);
    assert.notEqual(now.keyPem, before.keyPem);
    assert.ok(!b.publicKey.equals(a.publicKey));
    assert.equal((await readFindings(now)).status, 200);
    assert.ok(
      readAuthzLog(t.dir).some(
        (e) =>
          e.action === 'pki:reenroll' &&
          e.decision === 'allow' &&
          e.principal.serial === a.serialNumber,
      ),
    );
  });

  it('takes a re-enrolment CSR from OpenSSL with the same subject in PrintableString', async () => {
    const cert = pairOf(enrolled);
    const work2 = mkdtempSync(join(tmpdir(), 'est-openssl-'));
    try {
      const cfg = join(work2, 'req.cnf');
      writeFileSync(
        cfg,
        '[req]\ndistinguished_name = dn\nstring_mask = nombstr\nprompt = no\n' +
          '[dn]\nO = vulnvault-demo\nOU = customer\nCN = console-1\n',
      );
      const der = join(work2, 'r.der');
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
          join(work2, 'k.pem'),
          '-config',
          cfg,
          '-outform',
          'DER',
          '-out',
          der,
        ],
        { stdio: 'pipe' },
      );
      const parsed = execFileSync('openssl', [
        'asn1parse',
        '-inform',
        'DER',
        '-in',
        der,
      ]).toString();
      assert.match(parsed, /PRINTABLESTRING\s*:console-1/);
      const r = await enrol(readFileSync(der).toString('base64'), undefined, cert);
      assert.equal(r.status, 200, r.text);
      const [renewed] = opensslPkcs7(r.text);
      assert.equal(renewed?.subject, new X509Certificate(cert.certPem).subject);
    } finally {
      rmSync(work2, { recursive: true, force: true });
    }
  });

  it('cert watch renews a directory when it becomes due', async () => {
    const dir = join(work, 'watched');
    const old = await issueClientCertificate(
      t.ca,
      { cn: 'watch-1', ou: ['customer'], o: 'vulnvault-demo' },
      24 * 3_600_000,
    );
    writeCertDir(dir, await ageCert(old, 20));
    const before = new X509Certificate(pairOf(dir).certPem).serialNumber;
    const w = await startWatch(['cert', 'watch', '--dir', dir]);
    try {
      await waitFor(() => /renewed \(serial/.test(w.stdout()), 30_000);
      assert.notEqual(new X509Certificate(pairOf(dir).certPem).serialNumber, before);
    } finally {
      w.child.kill('SIGTERM');
    }
  });

  it('refuses a re-enrolment for another subject or key type', async () => {
    const cert = pairOf(enrolled);
    const other = await enrol(
      opensslCsr('/O=vulnvault-demo/OU=scanner/CN=console-1', [
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
      ]),
      undefined,
      cert,
    );
    assert.equal(other.status, 403);
    assert.equal(other.json.code, 'csr_not_allowed');
    const rsa = await enrol(
      opensslCsr('/O=vulnvault-demo/OU=customer/CN=console-1', ['-newkey', 'rsa:2048']),
      undefined,
      cert,
    );
    assert.equal(rsa.status, 403);
    assert.match(rsa.json.message, /key type/);
  });

  it('cert renew does nothing before a third of the lifetime is left, and renews when due', async () => {
    const idle = await runCliAsync(['cert', 'renew', '--dir', enrolled]);
    assert.equal(idle.status, 0, idle.stderr);
    assert.match(idle.stdout, /^not due/);
    // A certificate 17 h into its 24 h: 7 h left, under a third.
    const dir = join(work, 'due');
    const old = await issueClientCertificate(
      t.ca,
      { cn: 'due-1', ou: ['customer'], o: 'vulnvault-demo' },
      24 * 3_600_000,
    );
    const aged = await ageCert(old, 17);
    writeCertDir(dir, aged);
    const r = await runCliAsync(['cert', 'renew', '--dir', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^renewed/);
    const now = new X509Certificate(pairOf(dir).certPem);
    assert.ok(Date.parse(now.validTo) - Date.now() > 23 * 3_600_000);
  });

  it('an upload with a certificate 5 minutes from expiry renews first and succeeds', async () => {
    const dir = join(work, 'scanner');
    const old = await issueClientCertificate(
      t.ca,
      { cn: 'nessus-9', ou: ['scanner'], o: 'vulnvault-demo' },
      24 * 3_600_000,
    );
    const aged = await ageCert(old, 24 - 5 / 60);
    writeCertDir(dir, aged);
    const oldSerial = new X509Certificate(aged.certPem).serialNumber;
    const r = await runCliAsync(['upload', NESSUS, '--org', 'org2', '--cert-dir', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /renewed .* first/);
    assert.match(r.stdout, /^scan [0-9a-f-]+ \(nessus-xml, .*received [1-9]/);
    assert.notEqual(new X509Certificate(pairOf(dir).certPem).serialNumber, oldSerial);
  });

  it('refuses re-enrolment with a revoked certificate, and revoking a parent revokes what was renewed from it', async () => {
    const dir = join(work, 'lineage');
    const tok = await token('customer', 'lineage-1');
    const e = await runCliAsync([
      'cert',
      'enroll',
      '--url',
      srv.url,
      '--token',
      tok,
      '--ca',
      caFile,
      '--out',
      dir,
    ]);
    assert.equal(e.status, 0, e.stderr);
    const parent = pairOf(dir);
    const parentSerial = new X509Certificate(parent.certPem).serialNumber;
    const r = await runCliAsync(['cert', 'renew', '--dir', dir, '--force']);
    assert.equal(r.status, 0, r.stderr);
    const child = pairOf(dir);
    assert.equal((await readFindings(child)).status, 200);
    // Revoking the parent (the one the host saw enrolled) takes the child with it.
    const rv = await runCliAsync(['pki', 'revoke', '--dir', t.dir, '--serial', parentSerial]);
    assert.equal(rv.status, 0, rv.stderr);
    assert.match(rv.stdout, /and 1 certificate\(s\) renewed from it/);
    await srv.vault.reloadTls();
    await assert.rejects(readFindings(child));
    await assert.rejects(readFindings(parent));
    // And neither can renew.
    const again = await runCliAsync(['cert', 'renew', '--dir', dir, '--force']);
    assert.notEqual(again.status, 0);
  });

  it('refuses re-enrolment with an expired certificate', async () => {
    const old = await issueClientCertificate(
      t.ca,
      { cn: 'gone', ou: ['customer'], o: 'vulnvault-demo' },
      3_600_000,
    );
    const expired = await ageCert(old, 2);
    const csr = opensslCsr('/O=vulnvault-demo/OU=customer/CN=gone', [
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
    ]);
    await assert.rejects(enrol(csr, undefined, expired));
    const dir = join(work, 'expired');
    writeCertDir(dir, expired);
    const r = await runCliAsync(['cert', 'renew', '--dir', dir]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /expired .* enrol again/);
  });

  it('lists tokens without showing them, and a revoked token enrols nobody', async () => {
    const tok = await token('customer', 'revoked-token');
    const list = await runCliAsync(['pki', 'enroll-tokens', '--dir', t.dir]);
    assert.equal(list.status, 0, list.stderr);
    assert.ok(!list.stdout.includes('vvenr_'));
    const line = list.stdout.split('\n').find((l) => l.includes('CN=revoked-token')) ?? '';
    assert.match(line, /unused/);
    const id = /^(et_[0-9a-f]+)/.exec(line)?.[1] ?? '';
    const rv = await runCliAsync(['pki', 'revoke-token', '--dir', t.dir, '--id', id]);
    assert.equal(rv.status, 0, rv.stderr);
    // The server writes the CLI's token creation and revocation to the authorization log.
    const tokenEvents = () =>
      readAuthzLog(t.dir)
        .filter((e) => e.action === 'pki:enroll-token' && String(e.reason).includes(id))
        .map((e) => String(e.reason).replace(/ at \S+/, ''));
    await waitFor(() => tokenEvents().length === 2, 10_000);
    assert.equal(
      tokenEvents()[0]?.replace(/expires \S+$/, 'expires …'),
      `enrolment token ${id} created for OU=customer, CN=revoked-token, expires …`,
    );
    assert.equal(tokenEvents()[1], `enrolment token ${id} revoked`);
    assert.ok(!JSON.stringify(readAuthzLog(t.dir)).includes(tok));
    const r = await enrol(
      opensslCsr('/OU=customer/CN=revoked-token', [
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
      ]),
      tok,
    );
    assert.equal(r.status, 401);
    assert.match(r.json.message, /revoked/);
  });

  /** The same key and subject, re-signed as if issued `hours` ago (lifetime kept). */
  async function ageCert(pair: PemPair, hours: number): Promise<PemPair> {
    const { certificateFor } = await import('../../src/pki/issue.js');
    const { x509 } = await import('../../src/pki/x509.js');
    const c = new x509.X509Certificate(pair.certPem);
    const lifetime = c.notAfter.getTime() - c.notBefore.getTime();
    const notBefore = new Date(Date.now() - hours * 3_600_000);
    const certPem = await certificateFor(
      t.ca,
      {
        kind: 'client',
        subject: {
          cn: c.subjectName.getField('2.5.4.3')[0] ?? '',
          ou: c.subjectName.getField('2.5.4.11'),
          o: c.subjectName.getField('2.5.4.10')[0] ?? 'vulnvault-demo',
        },
        notBefore,
        notAfter: new Date(notBefore.getTime() + lifetime),
      },
      c.publicKey,
    );
    return { certPem, keyPem: pair.keyPem };
  }

  function writeCertDir(dir: string, pair: PemPair): void {
    installGeneration(dir, pair.certPem, pair.keyPem);
    writeFileSync(join(dir, 'ca.crt'), t.ca.certPem);
    writeFileSync(join(dir, 'est.json'), JSON.stringify({ url: srv.url }));
    assert.ok(readlinkSync(join(dir, 'current')).startsWith('gen-'));
  }
});

describe('EST rate limit', () => {
  let t: TestDir;
  let srv: RunningVault;
  before(async () => {
    t = await makeTestDir();
    srv = await startVault(enableEst(t.dir, { enabled: true, perMinute: 3 }));
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });

  it('answers 429 with Retry-After past pki.est.perMinute enrolments from one address', async () => {
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 5; i++) {
      const r = await call(srv.port, {
        method: 'POST',
        path: '/.well-known/est/simpleenroll',
        ca: t.ca.certPem,
        body: 'AAAA',
        headers: {
          'content-type': 'application/pkcs10',
          authorization: `Bearer vvenr_${'B'.repeat(43)}`,
        },
      });
      statuses.push(r.status);
      if (r.status === 429) retryAfter = String(r.headers['retry-after']);
    }
    assert.deepEqual(statuses, [400, 400, 400, 429, 429]);
    assert.match(retryAfter ?? '', /^[1-9][0-9]*$/);
    await waitFor(() => readAuthzLog(t.dir).some((e) => e.action === 'pki:enroll'));
  });
});
