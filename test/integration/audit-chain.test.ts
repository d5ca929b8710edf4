// LO 1.4/1.5: the audit logs are tamper-evident. A real server writes them;
// then each kind of tampering is applied to a copy and `vulnvault audit
// verify` (the real CLI) must fail naming the first bad record, while the
// untouched logs pass. The access log is chained and checked like the
// authorization and data-access logs. (Truncations that leave a shorter but
// consistent log are for the anchors: audit-anchor.test.ts.)

import assert from 'node:assert/strict';
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatRecord, hashLine } from '../../src/audit/chain.js';
import { loadConfig } from '../../src/config/config.js';
import { runCli } from '../helpers/cli.js';
import {
  call,
  clientCert,
  demoRecord,
  makeTestDir,
  postJson,
  startVault,
  type TestDir,
} from '../helpers/vault.js';

describe('audit log tamper evidence', () => {
  let t: TestDir;
  let scratch: string;

  before(async () => {
    t = await makeTestDir();
    scratch = mkdtempSync(join(tmpdir(), 'vulnvault-audit-'));
    // In the file, so that `audit verify` holds the logs to it too.
    const file = join(t.dir, 'vulnvault.json');
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    cfg.audit.checkpointEvery = 4;
    writeFileSync(file, JSON.stringify(cfg));
    t.config = loadConfig(t.dir);
    const srv = await startVault(t.config);
    const nasty = await clientCert(t.ca, { cn: 'evil\r\n{"seq":1}', o: 'x', ou: ['customer'] });
    for (let i = 0; i < 6; i++) {
      await postJson(srv.port, t.ca.certPem, t.scanner, demoRecord({ VulnID: `A-${i}` }));
      await call(srv.port, { path: '/vuln?org=org1', ca: t.ca.certPem, cert: t.customer });
      await call(srv.port, { path: '/vuln?org=org5', ca: t.ca.certPem, cert: nasty });
    }
    await srv.close(); // writes a final checkpoint
  });
  after(() => {
    t.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  let n = 0;
  /** A copy of the data directory whose log (authz by default) is rewritten by `mutate`. */
  function tampered(mutate: (lines: string[]) => string[] | string, log = 'authz.log'): string {
    const dir = join(scratch, `case-${n++}`);
    cpSync(t.dir, dir, { recursive: true });
    const file = join(dir, 'logs', log);
    const lines = readFileSync(file, 'utf8').split('\n').slice(0, -1);
    const out = mutate(lines);
    writeFileSync(file, typeof out === 'string' ? out : out.join('\n') + '\n');
    return dir;
  }

  function verify(dir: string) {
    return runCli(['audit', 'verify', '--dir', dir]);
  }

  it('passes on the untouched logs, with checkpoints, the data-access and the access log', () => {
    const r = verify(t.dir);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^OK authz\.log: 18 records, 5 checkpoints \(last at seq 18\), extends its anchored head \(seq 18\)$/m,
    );
    assert.match(
      r.stdout,
      /^OK data-access\.log: 12 records, \d+ checkpoints \(last at seq 12\), extends its anchored head \(seq 12\)$/m,
    );
    assert.match(
      r.stdout,
      /^OK access\.log: 18 records, \d+ checkpoints \(last at seq 18\), extends its anchored head \(seq 18\)$/m,
    );
    const access = readFileSync(join(t.dir, 'logs', 'access.log'), 'utf8')
      .trim()
      .split('\n');
    assert.equal(access.length, 18);
    const a1 = JSON.parse(access[1]!);
    assert.equal(a1.seq, 2);
    assert.equal(a1.prev, hashLine(access[0]!));
    assert.equal(a1.log, 'access');
    const data = readFileSync(join(t.dir, 'logs', 'data-access.log'), 'utf8')
      .trim()
      .split('\n');
    const first = JSON.parse(data[0]!);
    assert.equal(first.action, 'findings:write');
    assert.equal(first.org, 'org1');
    assert.equal(first.count, 1);
    assert.equal(first.principal.ou, 'scanner');
    assert.equal(JSON.parse(data[1]!).action, 'findings:read');
  });

  it('detects an edited record', () => {
    const dir = tampered((lines) => {
      const i = lines.findIndex((l) => l.includes('"decision":"deny"'));
      lines[i] = lines[i]!.replace('"decision":"deny"', '"decision":"allow"');
      return lines;
    });
    const r = verify(dir);
    assert.equal(r.status, 1);
    assert.match(
      r.stdout,
      /FAIL authz\.log: line \d+ \(seq \d+\): (hash chain broken|does not match its signed checkpoint)/,
    );
  });

  it('detects an edit whose chain was recomputed by the attacker, through the checkpoints', () => {
    const dir = tampered((lines) => {
      const out: string[] = [];
      let prev = '0'.repeat(64);
      lines.forEach((line, i) => {
        const r = JSON.parse(line);
        if (i === 2) r.reason = 'rewritten';
        const { seq, prev: _p, ...body } = r;
        const text = formatRecord(seq, prev, body);
        out.push(text);
        prev = hashLine(text);
      });
      return out;
    });
    const r = verify(dir);
    assert.equal(r.status, 1);
    assert.match(
      r.stdout,
      /FAIL authz\.log: line 4 \(seq 4\): does not match its signed checkpoint/,
    );
  });

  it('detects a deleted record', () => {
    const r = verify(tampered((lines) => lines.filter((_, i) => i !== 5)));
    assert.equal(r.status, 1);
    assert.match(r.stdout, /FAIL authz\.log: line 6: expected seq 6, found 7/);
  });

  it('detects an inserted record', () => {
    const r = verify(tampered((lines) => [...lines.slice(0, 3), lines[1]!, ...lines.slice(3)]));
    assert.equal(r.status, 1);
    assert.match(r.stdout, /FAIL authz\.log: line 4: expected seq 4, found 2/);
  });

  it('detects reordered records', () => {
    const r = verify(tampered((lines) => [lines[0]!, lines[2]!, lines[1]!, ...lines.slice(3)]));
    assert.equal(r.status, 1);
    assert.match(r.stdout, /FAIL authz\.log: line 2: expected seq 2, found 3/);
  });

  it('detects records removed from the end', () => {
    const r = verify(tampered((lines) => lines.slice(0, -3)));
    assert.equal(r.status, 1);
    assert.match(r.stdout, /the log ends at seq 15 but a signed checkpoint vouches for seq 18/);
  });

  it('detects an edited last record', () => {
    const r = verify(
      tampered((lines) => {
        lines[lines.length - 1] = lines.at(-1)!.replace('"org":"org5"', '"org":"org1"');
        return lines;
      }),
    );
    assert.equal(r.status, 1);
    assert.match(r.stdout, /line 18 \(seq 18\): does not match its signed checkpoint/);
  });

  it('detects a forged checkpoint', () => {
    const dir = tampered((lines) => lines);
    const cpFile = join(dir, 'logs', 'authz.log.checkpoints');
    const cps = readFileSync(cpFile, 'utf8').trim().split('\n');
    const last = JSON.parse(cps.at(-1)!);
    last.seq = 99;
    writeFileSync(cpFile, [...cps.slice(0, -1), JSON.stringify(last)].join('\n') + '\n');
    const r = verify(dir);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /checkpoint line 5 \(seq 99\) has an invalid signature/);
  });

  it('seals a record torn by a crash on the next start, and then verifies', async () => {
    // A crash mid-write leaves a partial line that no checkpoint vouches for.
    const dir = tampered((lines) => lines.join('\n') + '\n{"seq":19,"prev":"' + 'ab'.repeat(20));
    const before = verify(dir);
    assert.equal(before.status, 1);
    assert.match(before.stdout, /line 19: torn record at the end of the log, not sealed yet/);

    const srv = await startVault({ ...t.config, dir });
    await call(srv.port, { path: '/healthz', ca: t.ca.certPem, cert: t.customer });
    await srv.close();
    const afterSeal = verify(dir);
    assert.equal(afterSeal.status, 0, afterSeal.stdout);
    assert.match(afterSeal.stdout, /OK authz\.log: 19 records, .*1 torn record\(s\) sealed/);
    const lines = readFileSync(join(dir, 'logs', 'authz.log'), 'utf8')
      .trim()
      .split('\n');
    assert.ok(lines.includes('{"seq":19,"prev":"' + 'ab'.repeat(20)), 'the torn bytes are kept');
    assert.equal(JSON.parse(lines.at(-1)!).event, 'torn-record-sealed');
  });

  it('does not let a seal hide the truncation of a checkpointed record', async () => {
    const dir = tampered((lines) => lines);
    const file = join(dir, 'logs', 'authz.log');
    truncateSync(file, statSync(file).size - 20);
    const cut = readFileSync(file);
    // The server does not seal (or sign over) a log shorter than its last checkpoint.
    await assert.rejects(
      startVault({ ...t.config, dir }),
      /authz\.log ends at seq 17 but its last recorded head \(.*authz\.log\.checkpoints\) is seq 18: records were removed/,
    );
    assert.deepEqual(readFileSync(file), cut, 'the log is left as it was found');
    const r = verify(dir);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /FAIL authz\.log: line 18: torn record at the end of the log/);
  });

  it('detects a changed status in the access log', () => {
    const dir = tampered((lines) => {
      const i = lines.findIndex((l) => l.includes('"status":403'));
      assert.ok(i >= 0);
      lines[i] = lines[i]!.replace('"status":403', '"status":200');
      return lines;
    }, 'access.log');
    const r = verify(dir);
    assert.equal(r.status, 1);
    assert.match(
      r.stdout,
      /FAIL access\.log: line \d+ \(seq \d+\): (hash chain broken|does not match its signed checkpoint)/,
    );
  });

  it('detects a deleted access-log line', () => {
    const r = verify(tampered((lines) => lines.filter((_, i) => i !== 4), 'access.log'));
    assert.equal(r.status, 1);
    assert.match(r.stdout, /FAIL access\.log: line 5: expected seq 5, found 6/);
  });

  for (const [what, content] of [
    ['missing', undefined],
    ['empty', ''],
  ] as const) {
    it(`fails when a checkpoints file is ${what} and its log is longer than checkpointEvery`, () => {
      const dir = tampered((lines) => lines);
      const cps = join(dir, 'logs', 'data-access.log.checkpoints');
      if (content === undefined) rmSync(cps);
      else writeFileSync(cps, content);
      const r = verify(dir);
      assert.equal(r.status, 1);
      assert.match(
        r.stdout,
        /FAIL data-access\.log: 12 records and no checkpoint, but the server signs one at least every 4 records \(the checkpoints file is missing or was emptied\)/,
      );
    });
  }

  it('fails when the later checkpoints of a log were removed', () => {
    const dir = tampered((lines) => lines);
    const cps = join(dir, 'logs', 'authz.log.checkpoints');
    const kept = readFileSync(cps, 'utf8').split('\n').slice(0, 2);
    writeFileSync(cps, kept.join('\n') + '\n');
    const r = verify(dir);
    assert.equal(r.status, 1);
    assert.match(
      r.stdout,
      /FAIL authz\.log: 10 records follow the last checkpoint \(seq 8\), but the server signs one at least every 4 records/,
    );
  });
});
