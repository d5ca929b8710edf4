// LO 1.5: truncating an audit log is detected, with anchors outside the data
// directory. The truncations a hostile review made pass `audit verify` before
// (checkpoints deleted and the log cut; both files emptied; the log cut back
// to an older checkpoint with the later checkpoints dropped) and a rewrite
// of the cut-off tail must each be caught twice: by `vulnvault audit verify
// --anchor FILE` with heads exported earlier by `vulnvault audit anchor`, and
// by the server, which refuses to start on the cut log (and leaves it as it
// found it) because of the heads it keeps in DIR.audit-anchor.

import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatRecord, hashLine } from '../../src/audit/chain.js';
import { checkpointValid, type Checkpoint } from '../../src/audit/checkpoint.js';
import { loadConfig } from '../../src/config/config.js';
import { runCli } from '../helpers/cli.js';
import { call, makeTestDir, startVault, type TestDir } from '../helpers/vault.js';

const RECORDS = 40;
const EVERY = 8;

const lines = (file: string) =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
    : [];

describe('audit anchors: truncation is detected', () => {
  let t: TestDir;
  let scratch: string;
  let exported: string;

  before(async () => {
    t = await makeTestDir();
    scratch = mkdtempSync(join(tmpdir(), 'vulnvault-anchor-'));
    const file = join(t.dir, 'vulnvault.json');
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    cfg.audit.checkpointEvery = EVERY;
    writeFileSync(file, JSON.stringify(cfg));
    t.config = loadConfig(t.dir);
    const srv = await startVault(t.config);
    for (let i = 0; i < RECORDS; i++) {
      const r = await call(srv.port, {
        path: '/vuln?org=org1',
        ca: t.ca.certPem,
        cert: t.customer,
      });
      assert.equal(r.status, 200);
    }
    await srv.close();
    exported = join(scratch, 'exported.jsonl');
    const r = runCli(['audit', 'anchor', '--dir', t.dir, '--out', exported]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
  after(() => {
    t.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  let n = 0;
  /**
   * A copy of the data directory (and, unless told otherwise, of its anchor
   * directory beside it) whose authz log and checkpoints are rewritten.
   */
  function tampered(
    mutate: (log: string[], checkpoints: string[]) => [string[], string[] | undefined],
    withAnchorDir = true,
  ): string {
    const dir = join(scratch, `case-${n++}`);
    cpSync(t.dir, dir, { recursive: true });
    if (withAnchorDir) cpSync(`${t.dir}.audit-anchor`, `${dir}.audit-anchor`, { recursive: true });
    const log = join(dir, 'logs', 'authz.log');
    const cps = `${log}.checkpoints`;
    const [l, c] = mutate(lines(log), lines(cps));
    writeFileSync(log, l.map((x) => x + '\n').join(''));
    if (c === undefined) rmSync(cps);
    else writeFileSync(cps, c.map((x) => x + '\n').join(''));
    return dir;
  }

  const seqOf = (line: string) => (JSON.parse(line) as { seq: number }).seq;

  const truncations: {
    name: string;
    mutate: (log: string[], cps: string[]) => [string[], string[] | undefined];
    endsAt: number;
  }[] = [
    {
      name: 'checkpoints deleted, the first records kept',
      mutate: (log) => [log.slice(0, 12), undefined],
      endsAt: 12,
    },
    { name: 'log and checkpoints emptied', mutate: () => [[], []], endsAt: 0 },
    {
      name: 'cut back to an older checkpoint, later checkpoints dropped',
      mutate: (log, cps) => [log.slice(0, 16), cps.filter((c) => seqOf(c) <= 16)],
      endsAt: 16,
    },
  ];

  /** Cut back to seq 16, then the tail re-written with a valid chain (no key needed). */
  function rewrite(log: string[], cps: string[]): [string[], string[]] {
    const out = log.slice(0, 16);
    let prev = hashLine(out.at(-1)!);
    for (const line of log.slice(16)) {
      const { seq, prev: _p, ...body } = JSON.parse(line);
      body.decision = 'allow';
      body.reason = 'rewritten';
      const text = formatRecord(seq, prev, body);
      out.push(text);
      prev = hashLine(text);
    }
    return [out, cps.filter((c) => seqOf(c) <= 16)];
  }

  it('exports the current head of every log with `audit anchor`', () => {
    const heads = lines(exported).map((l) => JSON.parse(l));
    const byLog = new Map(heads.map((h) => [h.log, h]));
    assert.deepEqual([...byLog.keys()].sort(), ['access', 'authz', 'data-access', 'key-admin']);
    const authz = lines(join(t.dir, 'logs', 'authz.log'));
    assert.equal(authz.length, RECORDS);
    assert.equal(byLog.get('authz').seq, RECORDS);
    assert.equal(byLog.get('authz').hash, hashLine(authz.at(-1)!));
    const out = runCli(['audit', 'anchor', '--dir', t.dir, '--out', '-']);
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout.trim().split('\n').length, 4, 'stdout holds the heads only');
  });

  it('keeps every log’s signed head in the anchor directory outside DIR', () => {
    const pub = createPublicKey(readFileSync(join(t.dir, 'keys', 'audit-signing.pub')));
    const heads = lines(join(`${t.dir}.audit-anchor`, 'heads.json')).map(
      (l) => JSON.parse(l) as Checkpoint,
    );
    assert.deepEqual(heads.map((h) => h.log).sort(), ['access', 'authz', 'data-access']);
    for (const h of heads) assert.ok(checkpointValid(h, pub), `${h.log} head is signed`);
    const authz = heads.find((h) => h.log === 'authz')!;
    assert.equal(authz.seq, RECORDS);
    const history = lines(join(`${t.dir}.audit-anchor`, 'anchor.jsonl')).map((l) => JSON.parse(l));
    assert.deepEqual(
      history.filter((h) => h.log === 'authz').map((h) => h.seq),
      [8, 16, 24, 32, 40],
    );
  });

  for (const c of truncations) {
    it(`audit verify --anchor detects: ${c.name}`, () => {
      const dir = tampered(c.mutate, false);
      const r = runCli(['audit', 'verify', '--dir', dir, '--anchor', exported]);
      assert.equal(r.status, 1, r.stdout);
      assert.match(
        r.stdout,
        new RegExp(
          `^FAIL authz\\.log: the log ends at seq ${c.endsAt} but exported\\.jsonl anchors its head at seq ${RECORDS} \\(records were removed from the end\\)$`,
          'm',
        ),
      );
      assert.doesNotMatch(r.stdout, /^FAIL (?!authz)/m, 'the other logs are intact');
    });

    it(`the server refuses to start on: ${c.name}`, async () => {
      const dir = tampered(c.mutate);
      const log = join(dir, 'logs', 'authz.log');
      const before = [readFileSync(log, 'utf8'), lines(`${log}.checkpoints`)];
      await assert.rejects(
        startVault({ ...t.config, dir }),
        new RegExp(
          `audit log .*/authz\\.log ends at seq ${c.endsAt} but its last recorded head \\(.*heads\\.json\\) is seq ${RECORDS}: records were removed; refusing to start`,
        ),
      );
      assert.deepEqual(
        [readFileSync(log, 'utf8'), lines(`${log}.checkpoints`)],
        before,
        'nothing chained or signed over the cut',
      );
    });
  }

  it('audit verify without an anchor cannot tell a cut back to a checkpoint (why anchors exist)', () => {
    const dir = tampered(truncations[2]!.mutate, false);
    const r = runCli(['audit', 'verify', '--dir', dir]);
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /^NOTE no audit anchor in /m);
    assert.match(r.stdout, /^OK authz\.log: 16 records/m);
  });

  it('audit verify uses the configured anchor directory by itself', () => {
    const dir = tampered(truncations[2]!.mutate);
    const r = runCli(['audit', 'verify', '--dir', dir]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(
      r.stdout,
      /^FAIL authz\.log: the log ends at seq 16 but (heads\.json|anchor\.jsonl) anchors its head at seq 40/m,
    );
  });

  it('detects a rewritten tail: a different hash at the anchored seq', async () => {
    const r = runCli(['audit', 'verify', '--dir', tampered(rewrite, false), '--anchor', exported]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(
      r.stdout,
      /^FAIL authz\.log: seq 40 is not the record exported\.jsonl anchors \(the log was rewritten\)$/m,
    );
    await assert.rejects(
      startVault({ ...t.config, dir: tampered(rewrite) }),
      /audit log .*authz\.log: record seq 40 is not the one its recorded head \(.*heads\.json\) vouches for: the log was rewritten/,
    );
  });

  it('still refuses to start with heads.json gone: anchor.jsonl is a second place', async () => {
    const dir = tampered(truncations[2]!.mutate);
    rmSync(join(`${dir}.audit-anchor`, 'heads.json'));
    await assert.rejects(
      startVault({ ...t.config, dir }),
      /authz\.log ends at seq 16 but its last recorded head \(.*anchor\.jsonl\) is seq 40/,
    );
  });

  it('refuses to export heads of a log that fails its checks', () => {
    const dir = tampered(truncations[2]!.mutate);
    const out = join(scratch, 'not-written.jsonl');
    const r = runCli(['audit', 'anchor', '--dir', dir, '--out', out]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /FAIL authz\.log: the log ends at seq 16/);
    assert.equal(existsSync(out), false);
  });

  it('warns when a log has records but the anchor directory has no head of it', async () => {
    const dir = tampered((log, cps) => [log, cps], false);
    const srv = await startVault({ ...t.config, dir });
    await srv.close();
    const warned = srv.logs
      .map((l) => JSON.parse(l) as { msg: string; log?: string })
      .filter((l) => /^no head of this audit log in the anchor directory/.test(l.msg))
      .map((l) => l.log?.split('/').at(-1))
      .sort();
    assert.deepEqual(warned, ['access.log', 'authz.log', 'data-access.log']);
    assert.ok(existsSync(join(`${dir}.audit-anchor`, 'heads.json')), 'and anchors from now on');
  });

  it('passes a log that grew past its anchored head', async () => {
    const dir = tampered((log, cps) => [log, cps]);
    const srv = await startVault({ ...t.config, dir });
    await call(srv.port, { path: '/vuln?org=org1', ca: t.ca.certPem, cert: t.customer });
    await srv.close();
    const r = runCli(['audit', 'verify', '--dir', dir, '--anchor', exported]);
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /^OK authz\.log: 41 records, .*extends its anchored head \(seq 41\)$/m);
  });
});
