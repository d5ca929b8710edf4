// The pieces behind audit anchoring, without a server: the syslog message
// and its framing, looking a record up from the end of a large log, the
// checkpoint-coverage rule, the publisher's reporting of a failing sink, the
// batched log's checkpoint spacing, and the config rules for the anchor.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { coverageError } from '../../src/audit/anchor-check.js';
import { createAnchorPublisher } from '../../src/audit/anchor-publisher.js';
import type { AnchorSink } from '../../src/audit/anchor-sink.js';
import { openBatchedChainedLog } from '../../src/audit/batched-chained-log.js';
import { formatRecord, GENESIS, hashLine } from '../../src/audit/chain.js';
import type { Checkpoint } from '../../src/audit/checkpoint.js';
import { recordAt } from '../../src/audit/log-seek.js';
import { octetFrame, syslogMessage } from '../../src/audit/syslog-message.js';
import { splitFrames } from '../helpers/syslog.js';
import { loadChangedConfig } from '../helpers/config.js';

const tmp = mkdtempSync(join(tmpdir(), 'vv-anchor-unit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const head = (seq: number, log = 'authz'): Checkpoint => ({
  log,
  seq,
  hash: 'ab'.repeat(32),
  time: '2026-01-02T03:04:05.678Z',
  sig: 'c2lnbmF0dXJl',
});

describe('syslog message (RFC 5424, RFC 5425 framing)', () => {
  const origin = { hostname: 'vault host', appName: 'vulnvault', procId: '42' };

  it('puts the head in structured data and, signed, in the message', () => {
    const m = syslogMessage(head(7), origin, new Date('2026-01-02T00:00:00.000Z'));
    assert.equal(
      m,
      `<109>1 2026-01-02T00:00:00.000Z vault_host vulnvault 42 audit-head [vulnvault-head@32473 log="authz" seq="7" hash="${'ab'.repeat(32)}"] ${JSON.stringify(head(7))}`,
    );
  });

  it('escapes SD-PARAM values and counts octets, not characters', () => {
    const m = syslogMessage(head(1, 'a"b]c\\d'), { ...origin, hostname: 'hôte' });
    assert.match(m, / h_te /);
    assert.match(m, /log="a\\"b\\]c\\\\d"/);
    const frame = octetFrame('é');
    assert.equal(frame, '2 é');
    const { frames, rest } = splitFrames(Buffer.from(octetFrame(m) + octetFrame('x') + '12 par'));
    assert.deepEqual(frames, [m, 'x']);
    assert.equal(rest.toString(), '12 par');
  });
});

describe('looking a record up from the end of a log', () => {
  const file = join(tmp, 'big.log');
  const lines: string[] = [];
  let prev = GENESIS;
  // ~3,000 records of ~150 bytes: several 64 KiB chunks, lines across their edges.
  for (let seq = 1; seq <= 3000; seq++) {
    const line = formatRecord(seq, prev, { log: 'authz', pad: 'x'.repeat(seq % 97) });
    lines.push(line);
    prev = hashLine(line);
  }
  writeFileSync(file, lines.join('\n') + '\n');

  it('finds the last seq and the hash of any record', () => {
    for (const seq of [3000, 2999, 2500, 1234, 2, 1]) {
      assert.deepEqual(recordAt(file, seq), { lastSeq: 3000, hash: hashLine(lines[seq - 1]!) });
    }
    assert.deepEqual(recordAt(file, 3001), { lastSeq: 3000, hash: undefined });
  });

  it('ignores torn bytes after the last newline, and a missing or empty file', () => {
    const torn = join(tmp, 'torn.log');
    writeFileSync(torn, lines.slice(0, 10).join('\n') + '\n' + '{"seq":11,"prev":"');
    assert.deepEqual(recordAt(torn, 10), { lastSeq: 10, hash: hashLine(lines[9]!) });
    writeFileSync(torn, '');
    assert.deepEqual(recordAt(torn, 1), { lastSeq: 0, hash: undefined });
    assert.deepEqual(recordAt(join(tmp, 'none.log'), 1), { lastSeq: 0, hash: undefined });
  });
});

describe('checkpoint coverage', () => {
  it('allows up to checkpointEvery records after the last checkpoint', () => {
    assert.equal(coverageError(0, [], 4), undefined);
    assert.equal(coverageError(4, [], 4), undefined);
    assert.equal(coverageError(12, [4, 8], 4), undefined);
    // Checkpoints read after the log may be ahead of it (a live server).
    assert.equal(coverageError(10, [4, 8, 12], 4), undefined);
  });

  it('fails a long log with no checkpoint, or one whose later checkpoints are gone', () => {
    assert.match(coverageError(5, [], 4) ?? '', /5 records and no checkpoint/);
    assert.match(
      coverageError(20, [4, 8], 4) ?? '',
      /12 records follow the last checkpoint \(seq 8\)/,
    );
  });
});

describe('anchor publisher', () => {
  it('reports each failed delivery with what waits, retries, and reports the recovery', async () => {
    const events: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
    const report = {
      error: (fields: object, msg: string) =>
        events.push({ level: 'error', fields: fields as Record<string, unknown>, msg }),
      info: (fields: object, msg: string) =>
        events.push({ level: 'info', fields: fields as Record<string, unknown>, msg }),
    };
    let up = false;
    const got: number[] = [];
    const sink: AnchorSink = {
      name: 'test sink',
      deliver(heads) {
        if (!up) return Promise.reject(new Error('collector down'));
        got.push(...heads.map((h) => h.seq));
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    };
    const pub = createAnchorPublisher([sink], report);
    pub.publish(head(1));
    pub.publish(head(2));
    await new Promise((r) => setTimeout(r, 100));
    const failed = events.filter((e) => e.level === 'error');
    assert.ok(failed.length >= 1);
    assert.equal(failed[0]!.fields.anchor, 'test sink');
    assert.equal(failed[0]!.fields.err, 'collector down');
    assert.ok((failed[0]!.fields.waiting as number) >= 1);
    up = true;
    // The first retry comes after 1 s.
    await new Promise((r) => setTimeout(r, 1300));
    assert.deepEqual(got, [1, 2]);
    assert.ok(events.some((e) => e.level === 'info' && /reachable again/.test(e.msg)));
    await pub.close();
  });
});

describe('batched chained log', () => {
  it('cuts batches so that no more than checkpointEvery records follow a checkpoint', async () => {
    const file = join(tmp, 'access.log');
    const heads: Checkpoint[] = [];
    const log = openBatchedChainedLog({
      file,
      checkpointFile: `${file}.checkpoints`,
      name: 'access',
      signingKey: generateKeyPairSync('ed25519').privateKey,
      checkpointEvery: 5,
      checkpointIntervalMs: 60_000,
      flushIntervalMs: 10_000,
      onCheckpoint: (h) => heads.push(h),
      onError: (err) => assert.fail(err),
    });
    // 23 records queued at once, one flush (close) writes them.
    for (let i = 0; i < 23; i++) log.append({ log: 'access', i });
    await log.close();
    assert.deepEqual(
      heads.map((h) => h.seq),
      [5, 10, 15, 20, 23],
    );
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, 23);
    assert.equal(heads.at(-1)!.hash, hashLine(lines.at(-1)!));
  });
});

describe('anchor configuration', () => {
  it('refuses an anchor directory inside the data directory', () => {
    const r = loadChangedConfig((c) => (c.audit.anchor = { dir: 'logs/anchor' }));
    assert.match(r.error ?? '', /\/audit\/anchor\/dir .* is inside the data directory/);
    assert.match(
      loadChangedConfig((c) => (c.audit.anchor = { dir: '.' })).error ?? '',
      /inside the data directory/,
    );
  });

  it('accepts one outside it, and defaults to DIR.audit-anchor', () => {
    const r = loadChangedConfig((c) => (c.audit.anchor = { dir: '../elsewhere' }));
    assert.equal(r.error, undefined);
    const d = loadChangedConfig((c) => delete c.audit.anchor);
    assert.deepEqual(d.config?.audit.anchor, {});
  });

  it('checks the syslog collector settings', () => {
    const ok = loadChangedConfig(
      (c) => (c.audit.anchor = { syslog: { host: 'logs.example', ca: 'pki/collector-ca.crt' } }),
    );
    assert.equal(ok.error, undefined);
    assert.match(
      loadChangedConfig(
        (c) => (c.audit.anchor = { syslog: { host: 'h', ca: 'ca.crt', cert: 'c.crt' } }),
      ).error ?? '',
      /needs both cert and key/,
    );
    assert.match(
      loadChangedConfig((c) => (c.audit.anchor = { syslog: { host: 'h' } })).error ?? '',
      /must have required property 'ca'/,
    );
  });
});
