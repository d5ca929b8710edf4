// Issue 3: Idempotency-Key on every POST. Same key + same body → the first
// response replayed; same key + other body → 422; a retry while the first
// is still running → 409; keys are per principal.

import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { nativeBatch, uploadScan, type Client } from '../helpers/scans.js';
import {
  call,
  clientCert,
  countFindings,
  demoRecord,
  makeTestDir,
  startVault,
  type RunningVault,
  type TestDir,
} from '../helpers/vault.js';

const JSON_TYPE = 'application/json';

describe('Idempotency-Key', () => {
  let t: TestDir;
  let srv: RunningVault;
  let scanner: Client;

  before(async () => {
    t = await makeTestDir();
    srv = await startVault(t.config);
    scanner = { port: srv.port, ca: t.ca.certPem, cert: t.scanner };
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });

  const batch = nativeBatch([
    { asset: 'h1', pluginId: '1' },
    { asset: 'h1', pluginId: '2' },
  ]);

  it('replays the first response for the same key and body, without importing again', async () => {
    const key = { 'idempotency-key': 'scan-2026-11-24.a' };
    const first = await uploadScan(scanner, 'org1', batch, JSON_TYPE, key);
    assert.equal(first.status, 201, first.text);
    assert.equal(first.headers['idempotent-replayed'], undefined);
    const again = await uploadScan(scanner, 'org1', batch, JSON_TYPE, key);
    assert.equal(again.status, 201);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.deepEqual(again.json, first.json);
    const plain = await uploadScan(scanner, 'org1', batch, JSON_TYPE);
    assert.equal(plain.json.unchanged, 2, 'only one import happened under the key');
  });

  it('answers 422 for the same key with another body, storing nothing', async () => {
    const key = { 'idempotency-key': 'scan-b' };
    assert.equal((await uploadScan(scanner, 'org1', batch, JSON_TYPE, key)).status, 201);
    const count = countFindings(t.dir);
    const other = nativeBatch([{ asset: 'h9', pluginId: '9' }]);
    const res = await uploadScan(scanner, 'org1', other, JSON_TYPE, key);
    assert.equal(res.status, 422, res.text);
    assert.equal(res.json.code, 'idempotency_key_reused');
    assert.equal(countFindings(t.dir), count);
  });

  it('answers 409 to a retry while the first upload is still streaming', async () => {
    const headers = {
      'content-type': JSON_TYPE,
      'idempotency-key': 'slow-1',
    };
    // First request: send the start of the body and hold the rest back.
    const slow = request({
      host: '127.0.0.1',
      port: srv.port,
      method: 'POST',
      path: '/v1/orgs/org1/scans',
      ca: t.ca.certPem,
      cert: t.scanner.certPem,
      key: t.scanner.keyPem,
      servername: 'localhost',
      agent: false,
      headers,
    });
    const slowDone = new Promise<{ status: number; body: string }>((resolve, reject) => {
      slow.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      slow.on('error', reject);
    });
    const half = Math.floor(batch.length / 2);
    slow.write(batch.slice(0, half));
    await new Promise((r) => setTimeout(r, 200));
    const retry = await uploadScan(scanner, 'org1', batch, JSON_TYPE, {
      'idempotency-key': 'slow-1',
    });
    assert.equal(retry.status, 409, retry.text);
    assert.equal(retry.json.code, 'idempotency_in_progress');
    slow.end(batch.slice(half));
    const done = await slowDone;
    assert.equal(done.status, 201, done.body);
    const replay = await uploadScan(scanner, 'org1', batch, JSON_TYPE, {
      'idempotency-key': 'slow-1',
    });
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.deepEqual(replay.json, JSON.parse(done.body));
  });

  it('scopes keys per principal: another client may use the same key', async () => {
    const other = await clientCert(t.ca, { o: 'vulnvault-demo', ou: ['scanner'], cn: 'nessus-2' });
    const key = { 'idempotency-key': 'shared-key' };
    const a = await uploadScan(scanner, 'org1', batch, JSON_TYPE, key);
    const b = await uploadScan(
      { ...scanner, cert: other },
      'org1',
      nativeBatch([{ asset: 'h2', pluginId: '1' }]),
      JSON_TYPE,
      key,
    );
    assert.equal(a.status, 201);
    assert.equal(b.status, 201, b.text);
    assert.equal(b.headers['idempotent-replayed'], undefined);
    assert.notEqual(a.json.scanId, b.json.scanId);
  });

  it('releases the key of a failed upload, and refuses malformed keys', async () => {
    const key = { 'idempotency-key': 'retry-after-fix' };
    const bad = await uploadScan(scanner, 'org1', '{"findings":[', JSON_TYPE, key);
    assert.equal(bad.status, 400);
    const good = await uploadScan(scanner, 'org1', batch, JSON_TYPE, key);
    assert.equal(good.status, 201, good.text);
    const malformed = await uploadScan(scanner, 'org1', batch, JSON_TYPE, {
      'idempotency-key': 'has space',
    });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.json.code, 'idempotency_key_invalid');
  });

  it('applies to POST /vuln too', async () => {
    const post = (body: unknown, key: string) =>
      call(srv.port, {
        method: 'POST',
        path: '/vuln',
        ca: t.ca.certPem,
        cert: t.scanner,
        body: JSON.stringify(body),
        headers: { 'content-type': JSON_TYPE, 'idempotency-key': key },
      });
    const first = await post(demoRecord({ VulnID: 'IDEM-1' }), 'vuln-1');
    assert.equal(first.status, 201, first.text);
    const again = await post(demoRecord({ VulnID: 'IDEM-1' }), 'vuln-1');
    assert.equal(again.status, 201, 'a replay, not 409 vuln_exists');
    assert.equal(again.headers['idempotent-replayed'], 'true');
    const other = await post(demoRecord({ VulnID: 'IDEM-2' }), 'vuln-1');
    assert.equal(other.status, 422);
  });
});
