// The CLI contract, end to end: init writes the documented files, serve
// prints its URL once it accepts connections and drains on SIGTERM, the
// printed curl commands work as printed, and every failure is one clear line.

import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:tls';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCa, issueCertificate } from '../../src/pki/issue.js';
import { curl, runCli, startCli, type Served } from '../helpers/cli.js';

const mode = (p: string) => statSync(p).mode & 0o777;

describe('vulnvault CLI', () => {
  let work: string;
  let served: Served | undefined;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'vulnvault-cli-'));
  });
  after(async () => {
    if (served && served.child.exitCode === null) {
      served.child.kill('SIGKILL');
      await served.exited;
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('init writes the config, the PKI with private keys 0600, the stores and prints curl commands', () => {
    const r = runCli(['init', '--dir', 'vv'], { cwd: work });
    assert.equal(r.status, 0, r.stderr);
    for (const f of [
      'vulnvault.json',
      'pki/ca.crt',
      'pki/server.crt',
      'pki/clients/scanner.crt',
      'pki/clients/customer.crt',
      'data/findings.db',
      'data/policy.db',
    ]) {
      assert.ok(existsSync(join(work, 'vv', f)), f);
    }
    for (const k of [
      'pki/ca.key',
      'pki/server.key',
      'pki/clients/scanner.key',
      'pki/clients/customer.key',
    ]) {
      assert.equal(mode(join(work, 'vv', k)), 0o600, k);
    }
    assert.match(r.stdout, /curl --cacert vv\/pki\/ca\.crt --cert vv\/pki\/clients\/scanner\.crt/);
    // Nothing serves yet: init says to start the server first.
    assert.match(r.stdout, /\nStart the server \(vulnvault serve\), then try:\n {2}curl /);
    const cert = readFileSync(join(work, 'vv/pki/clients/scanner.crt'), 'utf8');
    assert.match(
      openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253'], cert),
      /CN=nessus-1,OU=scanner,O=vulnvault-demo/,
    );
    const dates = openssl(['x509', '-noout', '-startdate', '-enddate'], cert);
    const start = Date.parse(/notBefore=(.*)/.exec(dates)![1]!);
    const end = Date.parse(/notAfter=(.*)/.exec(dates)![1]!);
    assert.ok(Math.abs(end - start - 24 * 3_600_000) < 120_000, 'client certificates live 24 h');
  });

  it('init warns when it writes private keys into a git work tree that does not ignore them', () => {
    const repo = join(work, 'repo');
    mkdirSync(repo);
    // Only the repository's own ignore rules count: no global or system git config.
    const env = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
    assert.equal(spawnSync('git', ['init', '-q'], { cwd: repo, env }).status, 0);
    const r = runCli(['init'], { cwd: repo, env });
    assert.equal(r.status, 0, r.stderr);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('vulnvault: warning: '));
    assert.equal(warnings.length, 2, r.stderr);
    assert.match(
      warnings[0] ?? '',
      /the data directory \S*\/repo\/\.vulnvault \(it holds private keys.* is inside the git work tree \S*\/repo and git does not ignore it: 'git add -A' would commit it\. .*--dir/,
    );
    assert.match(
      warnings[1] ?? '',
      /the key-admin private key \S*\/repo\/\.vulnvault\.key-admin\/key-admin\.pem is inside the git work tree \S*\/repo and git does not ignore it: .*Move it out of the work tree .*--admin-key FILE/,
    );

    // With this project's .gitignore in place, both are ignored: no warning.
    copyFileSync(join(import.meta.dirname, '..', '..', '.gitignore'), join(repo, '.gitignore'));
    const again = runCli(['init', '--force'], { cwd: repo, env });
    assert.equal(again.status, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /warning/);
  });

  it('init refuses to overwrite an existing directory unless --force', () => {
    const before = readFileSync(join(work, 'vv/pki/ca.crt'), 'utf8');
    const r = runCli(['init', '--dir', 'vv'], { cwd: work });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^vulnvault: vv already exists; refusing to overwrite it \(use --force/);
    assert.equal(readFileSync(join(work, 'vv/pki/ca.crt'), 'utf8'), before);
    const f = runCli(['init', '--dir', 'vv2'], { cwd: work });
    assert.equal(f.status, 0);
    const forced = runCli(['init', '--dir', 'vv2', '--force'], { cwd: work });
    assert.equal(forced.status, 0, forced.stderr);
    // --force never deletes a directory that is not a vulnvault directory.
    writeFileSync(join(work, 'precious.txt'), 'keep me');
    const wild = runCli(['init', '--dir', '.', '--force'], { cwd: work });
    assert.equal(wild.status, 1);
    assert.match(wild.stderr, /holds no vulnvault\.json; refusing to delete it/);
    assert.equal(readFileSync(join(work, 'precious.txt'), 'utf8'), 'keep me');
  });

  it('serve prints its URL once it accepts connections, and the printed curl commands work', async () => {
    served = await startCli(['serve', '--dir', 'vv', '--port', '0'], { cwd: work });
    const url = served.url;
    const base = ['--cacert', 'vv/pki/ca.crt'];
    const as = (who: string) => [
      ...base,
      '--cert',
      `vv/pki/clients/${who}.crt`,
      '--key',
      `vv/pki/clients/${who}.key`,
    ];
    const rec = JSON.stringify({
      VulnID: 'VULN-0001',
      Org: 'org1',
      AssetName: 'web-01',
      DueDate: '12-31-2026',
      PluginId: 19506,
      PluginName: 'Nessus Scan Information',
      Priority: 'P1',
    });
    const w = ['-w', '\n%{http_code}'];

    // (c) the scanner's POST succeeds
    const c = curl(
      [...as('scanner'), ...w, '-H', 'content-type: application/json', '-d', rec, `${url}/vuln`],
      work,
    );
    assert.match(c.stdout, /\{"stored":1\}\n201$/);
    // (d) the customer's POST is refused
    const d = curl(
      [...as('customer'), ...w, '-H', 'content-type: application/json', '-d', rec, `${url}/vuln`],
      work,
    );
    assert.match(d.stdout, /"code":"forbidden".*\n403$/s);
    // (e) the customer reads org1
    const e = curl([...as('customer'), ...w, `${url}/vuln?org=org1`], work);
    assert.match(e.stdout, /"VulnID":"VULN-0001".*\n200$/s);
    // (f) the customer may not read org5
    const f = curl([...as('customer'), ...w, `${url}/vuln?org=org5`], work);
    assert.match(f.stdout, /"code":"forbidden".*\n403$/s);

    // (a) a certificate from another CA gets no access
    const other = await createCa({ cn: 'other CA' }, new Date(Date.now() + 86_400_000));
    const evil = await issueCertificate(other, {
      kind: 'client',
      subject: { cn: 'nessus-1', o: 'vulnvault-demo', ou: ['scanner'] },
      notAfter: new Date(Date.now() + 3_600_000),
    });
    writeFileSync(join(work, 'evil.crt'), evil.certPem);
    writeFileSync(join(work, 'evil.key'), evil.keyPem, { mode: 0o600 });
    const a = curl(
      [
        ...base,
        '--cert',
        'evil.crt',
        '--key',
        'evil.key',
        ...w,
        '-H',
        'content-type: application/json',
        '-d',
        rec.replace('0001', '0002'),
        `${url}/vuln`,
      ],
      work,
    );
    assert.notEqual(a.status, 0);
    assert.doesNotMatch(a.stdout, /201|stored/);

    // (b) a certificate signed by the scanner's (leaf) certificate is refused
    const scanner = {
      certPem: readFileSync(join(work, 'vv/pki/clients/scanner.crt'), 'utf8'),
      keyPem: readFileSync(join(work, 'vv/pki/clients/scanner.key'), 'utf8'),
    };
    const child = await issueCertificate(scanner, {
      kind: 'client',
      subject: { cn: 'child', o: 'vulnvault-demo', ou: ['scanner'] },
      notAfter: new Date(Date.now() + 3_600_000),
    });
    writeFileSync(join(work, 'child-chain.crt'), child.certPem + scanner.certPem);
    writeFileSync(join(work, 'child.key'), child.keyPem, { mode: 0o600 });
    const b = curl(
      [
        ...base,
        '--cert',
        'child-chain.crt',
        '--key',
        'child.key',
        ...w,
        '-H',
        'content-type: application/json',
        '-d',
        rec.replace('0001', '0003'),
        `${url}/vuln`,
      ],
      work,
    );
    assert.notEqual(b.status, 0);
    assert.doesNotMatch(b.stdout, /201|stored/);

    const stillOne = curl([...as('customer'), `${url}/vuln?org=org1`], work);
    assert.equal(JSON.parse(stillOne.stdout).items.length, 1);
  });

  it('pki issue and policy grant give a new client exactly the access granted', () => {
    assert.ok(served);
    const i = runCli(
      [
        'pki',
        'issue',
        '--dir',
        'vv',
        '--name',
        'auditor',
        '--ou',
        'auditors',
        '--cn',
        'alice',
        '--ttl',
        '1h',
      ],
      { cwd: work },
    );
    assert.equal(i.status, 0, i.stderr);
    assert.equal(mode(join(work, 'vv/pki/clients/auditor.key')), 0o600);
    const as = [
      '--cacert',
      'vv/pki/ca.crt',
      '--cert',
      'vv/pki/clients/auditor.crt',
      '--key',
      'vv/pki/clients/auditor.key',
      '-w',
      '\n%{http_code}',
    ];
    assert.match(curl([...as, `${served.url}/vuln?org=org1`], work).stdout, /\n403$/);
    const g = runCli(
      ['policy', 'grant', '--dir', 'vv', '--ou', 'auditors', '--action', 'read', '--org', 'org1'],
      { cwd: work },
    );
    assert.equal(g.status, 0, g.stderr);
    assert.match(g.stdout, /granted OU auditors findings:read on org org1/);
    assert.match(curl([...as, `${served.url}/vuln?org=org1`], work).stdout, /\n200$/);
    const list = runCli(['policy', 'list', '--dir', 'vv', '--ou', 'auditors', '--json'], {
      cwd: work,
    });
    assert.deepEqual(JSON.parse(list.stdout), [
      { principal: { type: 'ou', name: 'auditors' }, action: 'findings:read', org: 'org1' },
    ]);
    const r = runCli(
      ['policy', 'revoke', '--dir', 'vv', '--ou', 'auditors', '--action', 'read', '--org', 'org1'],
      { cwd: work },
    );
    assert.equal(r.status, 0);
    assert.match(curl([...as, `${served.url}/vuln?org=org1`], work).stdout, /\n403$/);
    const dup = runCli(
      ['pki', 'issue', '--dir', 'vv', '--name', 'auditor', '--ou', 'auditors', '--cn', 'alice'],
      { cwd: work },
    );
    assert.equal(dup.status, 1);
    assert.match(dup.stderr, /exists \(use --force/);
  });

  it('a second server on the same port fails with one line', () => {
    assert.ok(served);
    const r = runCli(['serve', '--dir', 'vv', '--port', String(served.port)], { cwd: work });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, `vulnvault: port ${served.port} on 127.0.0.1 is already in use\n`);
  });

  it('SIGTERM drains an in-flight request, then exits 0', async () => {
    assert.ok(served);
    const s = served;
    const ca = readFileSync(join(work, 'vv/pki/ca.crt'));
    const cert = readFileSync(join(work, 'vv/pki/clients/scanner.crt'));
    const key = readFileSync(join(work, 'vv/pki/clients/scanner.key'));
    const body = JSON.stringify({
      VulnID: 'DRAIN-1',
      Org: 'org1',
      AssetName: 'a',
      DueDate: '01-01-2027',
      PluginId: 1,
      PluginName: 'x',
      Priority: 'P2',
    });
    const response = new Promise<string>((resolve, reject) => {
      const socket = connect(
        { host: '127.0.0.1', port: s.port, ca, cert, key, servername: 'localhost' },
        () => {
          // Send the headers and half the body, then signal the server.
          socket.write(
            `POST /vuln HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
          );
          setTimeout(() => {
            s.child.kill('SIGTERM');
            setTimeout(() => socket.write(body.slice(10)), 300);
          }, 200);
        },
      );
      let data = '';
      socket.on('data', (c: Buffer) => {
        data += c.toString();
        if (data.includes('\r\n\r\n') && data.includes('}')) {
          socket.end();
          resolve(data);
        }
      });
      socket.on('error', reject);
    });
    const text = await response;
    assert.match(text, /^HTTP\/1\.1 201/);
    assert.equal(await s.exited, 0);
    assert.match(s.stdout(), /SIGTERM received, draining/);
  });

  it('start initialises a missing directory, then serves and says so', async () => {
    const s = await startCli(['start', '--dir', 'fresh', '--port', '0'], { cwd: work });
    assert.match(s.stdout(), /initialised fresh/);
    const since = Date.now();
    while (!/try:\n(.*\n){3}/.test(s.stdout()) && Date.now() - since < 5000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    // It is already serving, on the port it got: no "start the server" advice.
    assert.match(s.stdout(), new RegExp(`\nvulnvault is serving on ${s.url}; try:\n`));
    assert.doesNotMatch(s.stdout(), /Start the server/);
    const printed = s
      .stdout()
      .split('\n')
      .filter((l) => l.trim().startsWith('curl '));
    assert.equal(printed.length, 3);
    for (const l of printed) assert.ok(l.includes(`${s.url}/vuln`), l);
    const org5 = spawnSync('bash', ['-c', `${printed[2]?.replace(/\s+#.*$/, '')} -sS`], {
      cwd: work,
      encoding: 'utf8',
    });
    assert.match(org5.stdout, /"code":"forbidden"/);
    const res = curl(
      [
        '--cacert',
        'fresh/pki/ca.crt',
        '--cert',
        'fresh/pki/clients/customer.crt',
        '--key',
        'fresh/pki/clients/customer.key',
        `${s.url}/healthz`,
      ],
      work,
    );
    assert.equal(res.stdout, '{"status":"ok"}');
    s.child.kill('SIGTERM');
    assert.equal(await s.exited, 0);
  });

  it('reports a missing or malformed config and an unreadable key in one line', () => {
    const none = runCli(['serve', '--dir', 'nowhere'], { cwd: work });
    assert.equal(none.status, 1);
    assert.match(
      none.stderr,
      /^vulnvault: no config at .*nowhere\/vulnvault\.json: run 'vulnvault init --dir nowhere' first\n$/,
    );

    runCli(['init', '--dir', 'broken'], { cwd: work });
    writeFileSync(join(work, 'broken/vulnvault.json'), '{"version":1,');
    const bad = runCli(['serve', '--dir', 'broken'], { cwd: work });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /^vulnvault: config .*broken\/vulnvault\.json is not valid JSON/);
    assert.equal(bad.stderr.split('\n').length, 2);

    const cfg = JSON.parse(readFileSync(join(work, 'vv/vulnvault.json'), 'utf8'));
    cfg.server.port = 70000;
    writeFileSync(join(work, 'broken/vulnvault.json'), JSON.stringify(cfg));
    const range = runCli(['serve', '--dir', 'broken'], { cwd: work });
    assert.match(range.stderr, /^vulnvault: config .*: \/server\/port must be <= 65535\n$/);

    cfg.server.port = 8443;
    cfg.server.colour = 'blue';
    writeFileSync(join(work, 'broken/vulnvault.json'), JSON.stringify(cfg));
    assert.match(
      runCli(['serve', '--dir', 'broken'], { cwd: work }).stderr,
      /must NOT have additional properties 'colour'/,
    );

    delete cfg.server.colour;
    writeFileSync(join(work, 'broken/vulnvault.json'), JSON.stringify(cfg));
    rmSync(join(work, 'broken/pki/server.key'));
    const key = runCli(['serve', '--dir', 'broken', '--port', '0'], { cwd: work });
    assert.equal(key.status, 1);
    assert.match(key.stderr, /^vulnvault: cannot read server key .*server\.key: ENOENT\n$/);
    assert.doesNotMatch(key.stderr, /at .*\.ts:\d+/);

    const unknown = runCli(['serve', '--dir', 'vv', '--colour', 'blue'], { cwd: work });
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /^vulnvault: serve: Unknown option '--colour'/);
  });
});

/** Reads our certificate back with openssl, as a third party would. */
function openssl(args: string[], input: string): string {
  return spawnSync('openssl', args, { input, encoding: 'utf8' }).stdout;
}
