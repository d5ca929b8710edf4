// Expect: 100-continue over a raw TLS socket: a client is told to send its
// body only once the request passed the IP policy, throttle, authentication,
// the 415 / 413 checks and authorization of the route's action on the org in
// the path. A refused request gets its error response and never a 100; an
// authorized upload gets the 100, sends the body and is stored. POST /vuln,
// whose orgs are in the body, never sends a 100.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { rawTls, startEdge, withConfig } from '../helpers/edge.js';
import { nativeBatch } from '../helpers/scans.js';
import {
  countFindings,
  demoRecord,
  makeTestDir,
  readAuthzLog,
  type RunningVault,
  type TestDir,
} from '../helpers/vault.js';
import type { PemPair } from '../../src/pki/issue.js';

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const LIMIT = 64 * 1024;

function head(path: string, type: string, length: number, extra = ''): string {
  return (
    `POST ${path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: ${type}\r\n` +
    `content-length: ${length}\r\nexpect: 100-continue\r\n${extra}\r\n`
  );
}

/** Sends the headers, and the body only once the server says 100 Continue. */
function onContinue(headers: string, body: string) {
  return (s: TLSSocket) => {
    let sent = false;
    s.on('data', (c: Buffer) => {
      if (!sent && c.toString('latin1').startsWith(CONTINUE)) {
        sent = true;
        s.write(body);
      }
    });
    s.write(headers);
  };
}

const statusLines = (data: string) => data.match(/^HTTP\/1\.1 \d{3} [^\r]*/gm) ?? [];

describe('Expect: 100-continue', () => {
  let t: TestDir;
  let srv: RunningVault;
  before(async () => {
    t = await makeTestDir();
    srv = await startEdge(withConfig(t.config, { server: { uploadLimitBytes: LIMIT } }));
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });
  const as = (cert: PemPair) => ({ ca: t.ca.certPem, cert, maxMs: 8000 });
  const batch = nativeBatch([{ asset: 'continue-host', pluginId: '4242' }]);

  it('answers a client without write access 403 and never 100 Continue', async () => {
    const r = await rawTls(
      srv.port,
      as(t.customer),
      onContinue(head('/v1/orgs/org1/scans', 'application/json', batch.length), batch),
    );
    assert.deepEqual(statusLines(r.data), ['HTTP/1.1 403 Forbidden'], r.data);
    assert.match(r.data, /"code":"forbidden"/);
    assert.ok(r.closed, 'the connection is closed: the client may or may not send the body');
    assert.equal(countFindings(t.dir, 'org1'), 0);
    assert.ok(
      readAuthzLog(t.dir).some(
        (e) => e.action === 'findings:write' && e.org === 'org1' && e.decision === 'deny',
      ),
      'refused by the policy, as the handler authorizes',
    );
  });

  it('tells the scanner 100 Continue, then stores what it sends', async () => {
    const r = await rawTls(
      srv.port,
      as(t.scanner),
      onContinue(
        head('/v1/orgs/org1/scans', 'application/json', batch.length, 'connection: close\r\n'),
        batch,
      ),
    );
    assert.ok(r.data.startsWith(CONTINUE), r.data.slice(0, 100));
    assert.deepEqual(statusLines(r.data), ['HTTP/1.1 100 Continue', 'HTTP/1.1 201 Created']);
    assert.equal(countFindings(t.dir, 'org1'), 1);
  });

  it('answers 415 and a declared size over the limit 413 without a 100', async () => {
    const media = await rawTls(
      srv.port,
      as(t.scanner),
      onContinue(head('/v1/orgs/org1/scans', 'text/plain', batch.length), batch),
    );
    assert.deepEqual(statusLines(media.data), ['HTTP/1.1 415 Unsupported Media Type']);

    const big = await rawTls(
      srv.port,
      as(t.scanner),
      onContinue(head('/v1/orgs/org2/scans', 'application/json', LIMIT + 1), batch),
    );
    assert.deepEqual(statusLines(big.data), ['HTTP/1.1 413 Payload Too Large']);
    assert.match(big.data, new RegExp(`"code":"payload_too_large".*${LIMIT}`));
    assert.equal(countFindings(t.dir, 'org2'), 0);
  });

  it('never sends 100 on POST /vuln, whose orgs are only known from the body', async () => {
    const record = JSON.stringify(demoRecord({ VulnID: 'CONTINUE-1' }));
    const send = (cert: PemPair) =>
      rawTls(srv.port, as(cert), (s) => {
        s.write(head('/vuln', 'application/json', record.length));
        // As curl does: no 100 within a second, so the body goes anyway.
        setTimeout(() => s.writable && s.write(record), 300);
      });
    const customer = await send(t.customer);
    assert.deepEqual(statusLines(customer.data), ['HTTP/1.1 403 Forbidden']);
    const scanner = await send(t.scanner);
    assert.deepEqual(statusLines(scanner.data), ['HTTP/1.1 201 Created']);
  });
});
