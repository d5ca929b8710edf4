// Request framing RFC 9112 refuses and Node's parser lets through: a request
// line without an HTTP version (HTTP/0.9 style; llhttp would wait for headers
// such a client never sends, or serve it when headers follow) and a Host
// header given twice or missing. Each is answered 400 with the usual error
// body and headers, the connection is closed, and nothing is served.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { rawTls, readAccessLog, startEdge } from '../helpers/edge.js';
import { makeTestDir, waitFor, type RunningVault, type TestDir } from '../helpers/vault.js';

const STATUS_400 = /^HTTP\/1\.1 400 Bad Request\r\n/;

/** The JSON body of the last response in `data`. */
function lastBody(data: string): Record<string, unknown> {
  const at = data.lastIndexOf('\r\n\r\n');
  return JSON.parse(data.slice(at + 4)) as Record<string, unknown>;
}

/** Writes the first part, then each next one once the server has answered, as keep-alive clients do. */
function afterEachAnswer(parts: string[]) {
  return (s: TLSSocket) => {
    let i = 0;
    const next = () => {
      const part = parts[i++];
      if (part !== undefined && s.writable) s.write(part);
    };
    s.on('data', () => setTimeout(next, 20));
    next();
  };
}

describe('request framing', () => {
  let t: TestDir;
  let srv: RunningVault;
  before(async () => {
    t = await makeTestDir();
    // The default 10 s headers timeout: a refusal must not wait for it.
    srv = await startEdge(t.config);
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });
  const opts = () => ({ ca: t.ca.certPem, cert: t.customer });

  it('answers a request line without an HTTP version with 400 at once and closes the connection', async () => {
    const r = await rawTls(srv.port, opts(), (s) => s.write('GET /healthz\r\n'));
    assert.match(r.data, STATUS_400);
    assert.match(r.data, /\r\nconnection: close\r\n/);
    assert.match(r.data, /\r\nx-content-type-options: nosniff\r\n/);
    assert.equal(lastBody(r.data).code, 'bad_request');
    assert.match(String(lastBody(r.data).message), /no HTTP version/);
    assert.ok(r.closed, 'the server closed the connection');
    assert.ok(r.ms < 3000, `answered after ${r.ms} ms, not at the headers timeout`);
    // Access-logged like other parser-level refusals (the log is flushed every 250 ms).
    const id = lastBody(r.data).requestId;
    await waitFor(() => readAccessLog(t.dir).some((e) => e.requestId === id && e.status === 400));
  });

  it('refuses a version-less line that headers follow, also later on a keep-alive connection', async () => {
    const first = await rawTls(srv.port, opts(), (s) =>
      s.write('GET /healthz\r\nhost: localhost\r\n\r\n'),
    );
    assert.match(first.data, STATUS_400);
    assert.ok(first.closed);
    assert.doesNotMatch(first.data, /"status":"ok"/);

    const later = await rawTls(
      srv.port,
      opts(),
      afterEachAnswer(['GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n', 'GET /healthz\r\n\r\n']),
    );
    assert.match(later.data, /^HTTP\/1\.1 200 OK\r\n/, 'the well-formed request is served');
    assert.match(later.data, /\{"status":"ok"\}HTTP\/1\.1 400 Bad Request\r\n/);
    assert.equal(lastBody(later.data).code, 'bad_request');
    assert.ok(later.closed, 'closed after the refusal');
  });

  it('refuses two Host headers with 400 and closes the connection', async () => {
    const r = await rawTls(srv.port, opts(), (s) =>
      s.write('GET /healthz HTTP/1.1\r\nhost: localhost\r\nHost: evil.example\r\n\r\n'),
    );
    assert.match(r.data, STATUS_400);
    assert.match(r.data, /\r\nconnection: close\r\n/i);
    assert.deepEqual(lastBody(r.data).code, 'bad_request');
    assert.match(String(lastBody(r.data).message), /more than one Host header/);
    assert.doesNotMatch(r.data, /"status":"ok"/);
    assert.ok(r.closed);
  });

  it('answers a missing Host with the usual error body and headers', async () => {
    const r = await rawTls(srv.port, opts(), (s) => s.write('GET /healthz HTTP/1.1\r\n\r\n'));
    assert.match(r.data, STATUS_400);
    assert.match(r.data, /\r\nstrict-transport-security: max-age=/);
    assert.match(String(lastBody(r.data).message), /must carry a Host header/);
    assert.ok(r.closed);
  });

  it('still serves a request line split across writes, pipelined requests and HTTP/1.0', async () => {
    // The first bytes hold no whole line: the parser gets them and waits for the rest.
    const split = await rawTls(srv.port, opts(), (s) => {
      s.write('GE');
      setTimeout(
        () => s.write('T /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n'),
        100,
      );
    });
    assert.match(split.data, /^HTTP\/1\.1 200 OK\r\n/);

    const piped = await rawTls(srv.port, opts(), (s) =>
      s.write(
        'GET /healthz HTTP/1.1\r\nhost: localhost\r\n\r\n' +
          'GET /vuln?org=org1 HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n',
      ),
    );
    assert.equal(piped.data.match(/HTTP\/1\.1 200 OK\r\n/g)?.length, 2, piped.data);

    const old = await rawTls(srv.port, opts(), (s) => s.write('GET /healthz HTTP/1.0\r\n\r\n'));
    assert.match(old.data, /^HTTP\/1\.1 200 OK\r\n/);
  });
});
