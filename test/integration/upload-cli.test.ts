// `vulnvault upload` against a real `vulnvault serve` process, and the
// all-or-nothing promise when the server is killed in the middle of an upload.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli, startCli, type Served } from '../helpers/cli.js';
import { SAMPLES } from '../helpers/scans.js';
import { clientCert, countFindings } from '../helpers/vault.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

describe('vulnvault upload', () => {
  let work: string;
  let dir: string;
  let port: number;
  let served: Served | undefined;

  const serve = async () => {
    served = await startCli(['serve', '--dir', dir, '--port', String(port)]);
    return served;
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'vulnvault-upload-'));
    dir = join(work, 'vv');
    const r = runCli(['init', '--dir', dir]);
    assert.equal(r.status, 0, r.stderr);
    port = await freePort();
    // `upload --dir` finds the server through the config's port.
    const cfgFile = join(dir, 'vulnvault.json');
    const cfg = JSON.parse(readFileSync(cfgFile, 'utf8'));
    cfg.server.port = port;
    (await import('node:fs')).writeFileSync(cfgFile, JSON.stringify(cfg));
  });
  after(async () => {
    if (served && served.child.exitCode === null) {
      served.child.kill('SIGKILL');
      await served.exited;
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('streams a file with --dir, shows progress lines and prints the summary', async () => {
    await serve();
    const r = runCli([
      'upload',
      join(SAMPLES, 'nessus_with_cvssv3.nessus'),
      '--org',
      'org1',
      '--dir',
      dir,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /received 49, new 48, updated 0, unchanged 0, fixed 0, reopened 0/);
    assert.match(r.stderr, /upload: 100% .*MiB\/s .*ETA 0s/);
    assert.equal(countFindings(dir, 'org1'), 48);
  });

  it('prints at most one progress line per 10 % step, and a final one, when stderr is not a terminal', () => {
    // 12 MiB (48 chunks of 256 KiB) that parse cheaply: one finding, padded
    // with whitespace inside its host.
    const file = join(work, 'padded.nessus');
    const pad = `${' '.repeat(1023)}\n`.repeat(12 * 1024);
    writeFileSync(
      file,
      `<NessusClientData_v2><Report name="r"><ReportHost name="padded-host">${pad}` +
        '<ReportItem port="1" protocol="tcp" severity="1" pluginID="pad-1" pluginName="x"/>' +
        '</ReportHost></Report></NessusClientData_v2>',
    );
    assert.ok(statSync(file).size / (256 * 1024) > 40, 'many more chunks than 10 % steps');
    const r = runCli(['upload', file, '--org', 'org4', '--dir', dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /received 1, new 1/);
    const percents = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('upload: '))
      .map((l) => Number(/^upload: (\d+)%/.exec(l)?.[1]));
    assert.ok(percents.length >= 2 && percents.length <= 11, r.stderr);
    const steps = percents.map((p) => Math.floor(p / 10));
    assert.deepEqual(
      steps,
      [...new Set(steps)].sort((a, b) => a - b),
      'one line per step, in order',
    );
    assert.equal(percents.at(-1), 100, 'a final line');
  });

  it('takes explicit --url/--cert/--key/--ca and --type', () => {
    const pki = join(dir, 'pki');
    const r = runCli([
      'upload',
      join(SAMPLES, 'nessus-template.csv'),
      '--org',
      'org2',
      '--type',
      'csv',
      '--url',
      `https://127.0.0.1:${port}`,
      '--cert',
      join(pki, 'clients', 'scanner.crt'),
      '--key',
      join(pki, 'clients', 'scanner.key'),
      '--ca',
      join(pki, 'ca.crt'),
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /received 5, new 5/);
  });

  it('fails with one line naming the code when the server refuses', () => {
    const pki = join(dir, 'pki', 'clients');
    const r = runCli([
      'upload',
      join(SAMPLES, 'nessus_many_vuln.xml'),
      '--org',
      'org1',
      '--dir',
      dir,
      '--cert',
      join(pki, 'customer.crt'),
      '--key',
      join(pki, 'customer.key'),
    ]);
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split('\n');
    assert.match(lines.at(-1) ?? '', /^vulnvault: upload refused \(403 forbidden\): /);
    assert.equal(lines.filter((l) => l.startsWith('vulnvault:')).length, 1);
    // A file no format recognises: the server says so (415), naming the formats.
    const unknown = runCli(['upload', join(SAMPLES, 'SOURCES.txt'), '--org', 'org1', '--dir', dir]);
    assert.equal(unknown.status, 1);
    assert.match(
      unknown.stderr,
      /upload refused \(415 unsupported_format\): .*give \?format= \(vulnvault upload --format\)/,
    );
    const bogus = runCli([
      'upload',
      join(SAMPLES, 'SOURCES.txt'),
      '--org',
      'org1',
      '--format',
      'x',
    ]);
    assert.equal(bogus.status, 2);
    assert.match(bogus.stderr, /--format must be one of nessus-xml\|nessus-csv\|sarif/);
  });

  it('says the server refused the client at the TLS handshake for a revoked or expired certificate', async () => {
    const clients = join(dir, 'pki', 'clients');
    const issue = [
      'pki',
      'issue',
      '--dir',
      dir,
      '--name',
      'gone',
      '--ou',
      'scanner',
      '--cn',
      'gone-1',
    ];
    assert.equal(runCli(issue).status, 0);
    assert.equal(runCli(['pki', 'revoke', '--dir', dir, '--name', 'gone']).status, 0);
    const ca = {
      certPem: readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8'),
      keyPem: readFileSync(join(dir, 'pki', 'ca.key'), 'utf8'),
    };
    const old = await clientCert(
      ca,
      { cn: 'old-1', ou: ['scanner'], o: 'vulnvault-demo' },
      {
        notBefore: new Date(Date.now() - 7_200_000),
        notAfter: new Date(Date.now() - 3_600_000),
      },
    );
    writeFileSync(join(work, 'old.crt'), old.certPem);
    writeFileSync(join(work, 'old.key'), old.keyPem, { mode: 0o600 });
    const upload = (cert: string, key: string) =>
      runCli([
        'upload',
        join(SAMPLES, 'nessus_many_vuln.xml'),
        '--org',
        'org1',
        '--dir',
        dir,
        '--cert',
        cert,
        '--key',
        key,
      ]);
    const expectRefusal = (r: ReturnType<typeof runCli>) => {
      assert.equal(r.status, 1, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(
        lines[0] ?? '',
        /^vulnvault: upload: the server closed the connection during the TLS handshake \([^)]*(ECONNRESET|EPIPE|socket hang up)[^)]*\), before reading the request: it refused this client\. Likely causes: the client certificate is revoked or expired, was not issued by the server's CA, or this source address is not allowed; the server's logs\/authz\.log names the reason$/,
      );
    };
    // The running server picks the new CRL up within about a second.
    let revoked = upload(join(clients, 'gone.crt'), join(clients, 'gone.key'));
    for (let i = 0; i < 5 && revoked.status === 0; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      revoked = upload(join(clients, 'gone.crt'), join(clients, 'gone.key'));
    }
    expectRefusal(revoked);
    expectRefusal(upload(join(work, 'old.crt'), join(work, 'old.key')));
  });

  it('detects a SARIF log named *.json, and asks for --target when the log names none', () => {
    const file = join(work, 'results.json');
    writeFileSync(
      file,
      JSON.stringify({
        $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
        version: '2.1.0',
        runs: [
          {
            tool: { driver: { name: 'lint-x' } },
            results: [
              {
                ruleId: 'R1',
                level: 'error',
                message: { text: 'bad' },
                locations: [
                  {
                    physicalLocation: {
                      artifactLocation: { uri: 'src/a.ts' },
                      region: { startLine: 3 },
                    },
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    const r = runCli(['upload', file, '--org', 'org5', '--dir', dir]);
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr.trim().split('\n').at(-1),
      'vulnvault: upload refused (400 scan_target_missing): the SARIF file names no target ' +
        '(the project, image or host it scanned); give one with ?target=NAME ' +
        '(vulnvault upload --target NAME); nothing was stored',
    );
    const sarif = runCli(['upload', file, '--org', 'org5', '--dir', dir, '--target', 'acme/web']);
    assert.equal(sarif.status, 0, sarif.stderr);
    assert.match(sarif.stdout, /\(sarif, 1 target: acme\/web\): received 1, new 1/);
    // The older --type spelling still names a format.
    const typed = runCli([
      'upload',
      file,
      '--org',
      'org5',
      '--dir',
      dir,
      '--type',
      'sarif',
      '--target',
      'acme/web',
    ]);
    assert.equal(typed.status, 0, typed.stderr);
    assert.match(typed.stdout, /received 1, new 0/);
  });

  it('stores nothing from an upload whose server is killed mid-way', async () => {
    const s = served ?? (await serve());
    const before = countFindings(dir);
    const pki = join(dir, 'pki');
    const item = (n: number) =>
      `<ReportItem port="1" protocol="tcp" severity="1" pluginID="k${n}" pluginName="x"/>`;
    const head = `<NessusClientData_v2><Report name="r"><ReportHost name="crash-host">${Array.from({ length: 5000 }, (_, i) => item(i)).join('')}`;
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/v1/orgs/org1/scans',
      ca: readFileSync(join(pki, 'ca.crt')),
      cert: readFileSync(join(pki, 'clients', 'scanner.crt')),
      key: readFileSync(join(pki, 'clients', 'scanner.key')),
      servername: 'localhost',
      agent: false,
      headers: { 'content-type': 'application/xml' },
    });
    req.on('error', () => undefined);
    req.write(head);
    // Give the server time to parse and write those 5,000 findings, then kill it.
    await new Promise((r) => setTimeout(r, 1500));
    s.child.kill('SIGKILL');
    await s.exited;
    req.destroy();
    assert.equal(countFindings(dir), before);
    await serve();
    const r = runCli([
      'upload',
      join(SAMPLES, 'nessus_many_vuln.xml'),
      '--org',
      'org3',
      '--dir',
      dir,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(countFindings(dir), before + 7);
  });
});
