// ingestScan (src/functions/ingest/ingest-scan.ts) over in-memory ports and a
// tiny line parser: authorize before the body, the size cap, empty uploads,
// all-or-nothing on a parse error, Idempotency-Key replay and reuse.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VaultError } from '../../src/core/errors.js';
import { newFinding } from '../../src/core/finding.js';
import type { ParserFactory, ScanFormat } from '../../src/formats/format.js';
import { SCAN_FORMATS } from '../../src/formats/format.js';
import { ingestScan, type IngestDeps } from '../../src/functions/ingest/ingest-scan.js';
import {
  callContext,
  isVaultError,
  loggedAuthorize,
  MemoryAudit,
  MemoryIdempotency,
  MemoryPolicies,
  spyWriter,
  type CallLog,
} from '../helpers/fake-ports.js';
import { createMemoryStore } from '../helpers/memory-store.js';

const ORG = 'org-a';

/**
 * One finding per line "asset pluginId title…"; "@asset" covers an asset
 * without a finding; "!" is a syntax error, as a real parser throws one.
 */
const lineParser: ParserFactory = (sink) => {
  let rest = '';
  const line = (l: string) => {
    if (l === '') return;
    if (l.startsWith('!')) throw new VaultError('scan_invalid', 'bad line; nothing was stored');
    if (l.startsWith('@')) return sink.asset('lines', l.slice(1));
    const [asset = '', pluginId = '', ...title] = l.split(' ');
    sink.asset('lines', asset);
    void sink.finding(
      newFinding({
        asset,
        scanner: 'lines',
        pluginId,
        port: 0,
        protocol: 'tcp',
        title: title.join(' '),
        severity: 'low',
        severityRaw: '1',
        cvss3Score: null,
        cvss3Vector: null,
        cvss2Score: null,
        cvss2Vector: null,
        cves: [],
        description: '',
        solution: '',
        evidence: '',
        service: '',
      }),
    );
  };
  return {
    write(chunk) {
      const lines = (rest + Buffer.from(chunk).toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      lines.forEach(line);
    },
    end() {
      line(rest);
    },
  };
};

const parsers = Object.fromEntries(SCAN_FORMATS.map((f) => [f, lineParser])) as Record<
  ScanFormat,
  ParserFactory
>;

/** The body in chunks of 64 bytes, its first read logged. */
async function* body(text: string, log: CallLog): AsyncGenerator<Uint8Array> {
  log.push('body.read');
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += 64) yield bytes.subarray(i, i + 64);
}

const lines = (n: number, asset = 'h1', from = 1) =>
  Array.from({ length: n }, (_, i) => `${asset} ${from + i} check ${from + i}\n`).join('');

function setup(granted = true, maxBytes = 1024 * 1024) {
  const log: CallLog = [];
  const store = createMemoryStore();
  const ctx = callContext('scanners');
  const policies = new MemoryPolicies();
  if (granted) policies.grant({ principal: ctx.principal.ref, action: 'findings:write', org: ORG });
  const audit = new MemoryAudit(log);
  const deps: IngestDeps = {
    authorize: loggedAuthorize(policies, audit, log),
    writer: spyWriter(store.writer, log),
    audit,
    idempotency: new MemoryIdempotency(log),
    parsers,
    maxBytes,
  };
  const upload = (text: string, idempotencyKey?: string) =>
    ingestScan(ctx, { org: ORG, format: 'native', body: body(text, log), idempotencyKey }, deps);
  return { log, store, audit, upload };
}

const indexOf = (log: CallLog, prefix: string) => log.findIndex((l) => l.startsWith(prefix));

describe('ingestScan', () => {
  it('asks authorize before reading a byte of the body, and reads none when refused', async () => {
    const refused = setup(false);
    await assert.rejects(refused.upload(lines(3)), isVaultError('forbidden'));
    assert.deepEqual(
      refused.log.filter((l) => !l.startsWith('authorize') && !l.startsWith('audit.authz')),
      [],
    );
    const allowed = setup();
    await allowed.upload(lines(3), 'key-1');
    const order = ['authorize', 'idempotency.begin', 'writer.beginScanImport', 'body.read'].map(
      (p) => indexOf(allowed.log, p),
    );
    assert.ok(
      order.every((i) => i >= 0) && order.every((i, j) => j === 0 || i > (order[j - 1] ?? 0)),
      allowed.log.join('\n'),
    );
  });

  it('stages findings in batches, commits once, and records the write', async () => {
    const { upload, log, audit, store } = setup();
    const r = await upload(lines(600));
    assert.equal(r.status, 201);
    assert.deepEqual(
      [
        r.body.received,
        r.body.new,
        r.body.updated,
        r.body.unchanged,
        r.body.fixed,
        r.body.reopened,
      ],
      [600, 600, 0, 0, 0, 0],
    );
    // Batches of about 250 (flushed between chunks), then one commit.
    const staged = log
      .filter((l) => l.startsWith('import.stage'))
      .map((l) => Number(l.split(' ')[1]));
    assert.equal(staged.length, 3);
    assert.equal(
      staged.reduce((a, b) => a + b, 0),
      600,
    );
    assert.ok(
      staged.slice(0, -1).every((n) => n >= 250 && n < 260),
      staged.join(' '),
    );
    assert.deepEqual(
      log.filter((l) => l.startsWith('import.commit')),
      ['import.commit 600'],
    );
    assert.deepEqual(
      audit.dataAccessEvents.map((e) => [e.action, e.org, e.count, e.scanId]),
      [['findings:write', ORG, 600, r.body.scanId]],
    );
    assert.equal(store.rows(ORG).length, 600);
    // The same scan again: nothing new, nothing fixed.
    const again = await upload(lines(600));
    assert.deepEqual([again.body.new, again.body.unchanged, again.body.fixed], [0, 600, 0]);
  });

  it('refuses an upload over the size limit with 413, storing nothing', async () => {
    const { upload, log, store } = setup(true, 1000);
    await assert.rejects(upload(lines(100)), isVaultError('payload_too_large'));
    assert.ok(log.includes('import.abort'));
    assert.ok(!log.includes('import.commit 100'));
    assert.deepEqual(store.rows(ORG), []);
    assert.deepEqual(store.scans, []);
  });

  it('refuses an upload with no finding and no asset (scan_empty); a clean scan of an asset is valid', async () => {
    const { upload, log, store } = setup();
    await assert.rejects(upload(''), isVaultError('scan_empty'));
    assert.ok(log.includes('import.abort'));
    assert.deepEqual(store.scans, []);
    await upload(lines(2));
    const clean = await upload('@h1\n');
    assert.deepEqual([clean.body.received, clean.body.fixed], [0, 2]);
  });

  it('aborts on a parse error after batches were staged, leaving nothing', async () => {
    const { upload, log, store } = setup();
    await upload(lines(2, 'h0'));
    const before = store.rows(ORG);
    await assert.rejects(upload(`${lines(300)}!broken\n`), isVaultError('scan_invalid'));
    assert.ok(
      log.some((l) => l.startsWith('import.stage')),
      'a batch was staged before the error',
    );
    assert.equal(log.at(-1), 'import.abort');
    assert.deepEqual(store.rows(ORG), before);
    assert.equal(store.scans.length, 1);
  });

  it('refuses a finding without an identity, storing nothing', async () => {
    const { upload, store } = setup();
    await assert.rejects(upload(`${lines(2)}h1  no plugin id\n`), isVaultError('scan_invalid'));
    assert.deepEqual(store.rows(ORG), []);
  });

  it('replays the first result for the same Idempotency-Key and body, importing once', async () => {
    const { upload, log, store } = setup();
    const first = await upload(lines(5), 'key-1');
    const again = await upload(lines(5), 'key-1');
    assert.deepEqual(again, { ...first, replayed: true });
    assert.equal(log.filter((l) => l.startsWith('writer.beginScanImport')).length, 1);
    assert.equal(store.scans.length, 1);
  });

  it('refuses the same key with another body (422), importing nothing', async () => {
    const { upload, store } = setup();
    await upload(lines(5), 'key-1');
    await assert.rejects(upload(lines(6), 'key-1'), isVaultError('idempotency_key_reused'));
    assert.equal(store.scans.length, 1);
    assert.equal(store.rows(ORG).length, 5);
  });

  it('frees the key of a failed upload, so the same key can be used again', async () => {
    const { upload, log } = setup();
    await assert.rejects(upload(`${lines(1)}!\n`, 'key-2'), isVaultError('scan_invalid'));
    assert.ok(log.includes('idempotency.release key-2'));
    const retry = await upload(lines(1), 'key-2');
    assert.equal(retry.replayed, false);
  });
});
