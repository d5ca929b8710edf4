// NS 1.2 proved with other TLS stacks: OpenSSL's s_client (allowed to offer
// TLS 1.0/1.1 and CBC suites with SECLEVEL=0, so that the refusal is the
// server's, which its log confirms) and sslscan. TLS_1_3 refuses TLS 1.2.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEdge, withConfig } from '../helpers/edge.js';
import {
  makeTestDir,
  readAuthzLog,
  waitFor,
  type RunningVault,
  type TestDir,
} from '../helpers/vault.js';

function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
    child.stdin.end('Q\n');
  });
}

function sClient(port: number, args: string[], t?: TestDir) {
  const auth = t
    ? [
        '-CAfile',
        join(t.dir, 'pki', 'ca.crt'),
        '-cert',
        join(t.dir, 'pki', 'clients', 'customer.crt'),
        '-key',
        join(t.dir, 'pki', 'clients', 'customer.key'),
      ]
    : [];
  return run('openssl', [
    's_client',
    '-connect',
    `127.0.0.1:${port}`,
    '-servername',
    'localhost',
    ...auth,
    ...args,
  ]);
}

const reasons = (t: TestDir) => readAuthzLog(t.dir).map((e) => e.reason as string);

describe('TLS_1_2 policy seen by OpenSSL and sslscan', () => {
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

  it('negotiates TLS 1.2 with an ECDHE AEAD suite and TLS 1.3', async () => {
    const r12 = await sClient(srv.port, ['-tls1_2', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256'], t);
    assert.match(r12.out, /Protocol\s*: TLSv1\.2/);
    assert.match(r12.out, /Cipher\s*: ECDHE-ECDSA-AES128-GCM-SHA256/);
    const r13 = await sClient(srv.port, ['-tls1_3'], t);
    assert.match(r13.out, /New, TLSv1\.3, Cipher is TLS_/);
  });

  for (const [flag, name] of [
    ['-tls1', 'TLS 1.0'],
    ['-tls1_1', 'TLS 1.1'],
  ] as const) {
    it(`refuses ${name} offered by a client that is willing to speak it`, async () => {
      const before = reasons(t).length;
      const r = await sClient(srv.port, [flag, '-cipher', 'DEFAULT@SECLEVEL=0'], t);
      assert.notEqual(r.code, 0);
      assert.doesNotMatch(r.out, /no protocols available/, 'the client did offer it');
      assert.doesNotMatch(r.out, /Cipher is (?!\(NONE\))/);
      await waitFor(() => reasons(t).length > before);
      assert.equal(reasons(t).at(-1), 'TLS version not allowed by the policy');
    });
  }

  for (const cipher of ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384', 'AES128-SHA256']) {
    it(`refuses the CBC suite ${cipher}`, async () => {
      const before = reasons(t).length;
      const r = await sClient(srv.port, ['-tls1_2', '-cipher', `${cipher}@SECLEVEL=0`], t);
      assert.notEqual(r.code, 0);
      assert.doesNotMatch(r.out, /Cipher is (?!\(NONE\))/);
      await waitFor(() => reasons(t).length > before);
      assert.match(reasons(t).at(-1) ?? '', /^no shared cipher suite/);
    });
  }

  it('passes sslscan: no SSL/TLS 1.0/1.1, only ECDHE + AEAD suites accepted', async () => {
    // With a client certificate: without one the edge closes each TLS 1.2
    // socket right after the handshake and sslscan counts no suite accepted.
    const r = await run('sslscan', [
      '--no-colour',
      '--no-heartbleed',
      '--sni-name=localhost',
      `--certs=${join(t.dir, 'pki', 'clients', 'customer.crt')}`,
      `--pk=${join(t.dir, 'pki', 'clients', 'customer.key')}`,
      `127.0.0.1:${srv.port}`,
    ]);
    assert.equal(r.code, 0, r.out);
    for (const v of ['SSLv2', 'SSLv3', 'TLSv1.0', 'TLSv1.1']) {
      assert.match(r.out, new RegExp(`${v.replace('.', '\\.')}\\s+disabled`), v);
    }
    assert.match(r.out, /TLSv1\.2\s+enabled/);
    assert.match(r.out, /TLSv1\.3\s+enabled/);
    const accepted = r.out.split('\n').filter((l) => /^(Preferred|Accepted)\s/.test(l));
    assert.ok(
      accepted.some((l) => /TLSv1\.2 .*ECDHE-ECDSA-AES128-GCM-SHA256/.test(l)),
      r.out,
    );
    assert.ok(
      accepted.some((l) => /TLSv1\.3 .*TLS_AES_256_GCM_SHA384/.test(l)),
      r.out,
    );
    for (const l of accepted) {
      assert.match(
        l,
        /TLS_AES_\d+_GCM|TLS_CHACHA20_POLY1305|ECDHE-ECDSA-(AES\d+-GCM|CHACHA20-POLY1305)/,
        l,
      );
    }
  });
});

describe('TLS_1_3 policy', () => {
  let t: TestDir;
  let srv: RunningVault;
  before(async () => {
    t = await makeTestDir();
    srv = await startEdge(withConfig(t.config, { tls: { policy: 'TLS_1_3' } }));
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });

  it('refuses TLS 1.2 and speaks TLS 1.3', async () => {
    const r12 = await sClient(srv.port, ['-tls1_2'], t);
    assert.notEqual(r12.code, 0);
    await waitFor(() => reasons(t).includes('TLS version not allowed by the policy'));
    const r13 = await sClient(srv.port, ['-tls1_3'], t);
    assert.match(r13.out, /New, TLSv1\.3, Cipher is TLS_/);
  });
});
