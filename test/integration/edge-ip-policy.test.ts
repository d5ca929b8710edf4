// NS 1.1: the IP policy is checked on the raw TCP connection, before any TLS
// (a refused peer gets no handshake at all), and again per request, where
// X-Forwarded-For counts only when the direct peer is a trusted proxy.
// Distinct peers are distinct loopback addresses (127.0.0.x, ::1).

import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { edgeCall, startEdge, withConfig } from '../helpers/edge.js';
import { makeTestDir, readAuthzLog, type RunningVault, type TestDir } from '../helpers/vault.js';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Opens a plain TCP connection and reports what the server did without any ClientHello. */
function tcpProbe(
  port: number,
  host: string,
  localAddress: string,
): Promise<{ closedMs: number | undefined; bytes: number }> {
  return new Promise((resolve) => {
    const start = Date.now();
    let bytes = 0;
    const s = tcpConnect({ port, host, localAddress });
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ closedMs: undefined, bytes });
    }, 3000);
    s.on('data', (c: Buffer) => (bytes += c.length));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ closedMs: Date.now() - start, bytes });
    });
  });
}

describe('IP policy (NS 1.1)', () => {
  let t: TestDir;
  let srv: RunningVault;
  before(async () => {
    t = await makeTestDir();
    srv = await startEdge(
      withConfig(t.config, {
        network: {
          allow: ['127.0.0.0/29'],
          deny: ['127.0.0.2', '127.0.0.9/32'],
          trustedProxies: ['127.0.0.1'],
        },
      }),
    );
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });

  it('serves an allowed address', async () => {
    const r = await edgeCall(srv.port, {
      path: '/healthz',
      ca: t.ca.certPem,
      cert: t.customer,
      localAddress: '127.0.0.3',
    });
    assert.equal(r.status, 200);
  });

  it('drops a denied address at TCP accept, before any TLS handshake', async () => {
    // No ClientHello is ever sent: an edge waiting for one would keep the
    // connection open (handshake timeout 10 s); the gate closes it at once.
    const probe = await tcpProbe(srv.port, '127.0.0.1', '127.0.0.2');
    assert.ok(
      probe.closedMs !== undefined && probe.closedMs < 2500,
      `closed after ${probe.closedMs} ms`,
    );
    assert.equal(probe.bytes, 0);
    const allowed = await tcpProbe(srv.port, '127.0.0.1', '127.0.0.4');
    assert.equal(allowed.closedMs, undefined, 'an allowed peer waits for its handshake');
    await assert.rejects(
      edgeCall(srv.port, {
        path: '/healthz',
        ca: t.ca.certPem,
        cert: t.customer,
        localAddress: '127.0.0.2',
      }),
      /socket disconnected|ECONNRESET|socket hang up/,
    );
    assert.ok(
      readAuthzLog(t.dir).some(
        (e) =>
          e.action === 'connect' &&
          e.sourceIp === '127.0.0.2' &&
          e.reason === 'source address not allowed',
      ),
    );
  });

  it('drops an address outside every allow range', async () => {
    const probe = await tcpProbe(srv.port, '127.0.0.1', '127.0.0.8');
    assert.ok(probe.closedMs !== undefined, 'refused');
  });

  it('applies the policy per request to the client a trusted proxy forwards for', async () => {
    // 127.0.0.1 is a trusted proxy: the nearest untrusted hop is the client.
    const denied = await edgeCall(srv.port, {
      path: '/healthz',
      ca: t.ca.certPem,
      cert: t.customer,
      headers: { 'x-forwarded-for': '127.0.0.9' },
    });
    assert.equal(denied.status, 403);
    assert.equal(denied.json.code, 'ip_denied');
    assert.equal(denied.headers.connection, 'close');
    const rec = readAuthzLog(t.dir).find((e) => e.requestId === denied.json.requestId);
    assert.equal(rec?.sourceIp, '127.0.0.9');
    // A client-supplied left part does not help: the right-most untrusted hop counts.
    const spoofed = await edgeCall(srv.port, {
      path: '/healthz',
      ca: t.ca.certPem,
      cert: t.customer,
      headers: { 'x-forwarded-for': '127.0.0.3, 127.0.0.9' },
    });
    assert.equal(spoofed.status, 403);
    const ok = await edgeCall(srv.port, {
      path: '/healthz',
      ca: t.ca.certPem,
      cert: t.customer,
      headers: { 'x-forwarded-for': '127.0.0.9, 127.0.0.3' },
    });
    assert.equal(ok.status, 200);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const r = await edgeCall(srv.port, {
      path: '/healthz',
      ca: t.ca.certPem,
      cert: t.customer,
      localAddress: '127.0.0.3',
      headers: { 'x-forwarded-for': '127.0.0.9' },
    });
    assert.equal(r.status, 200);
  });

  it('refuses an unparseable X-Forwarded-For from a trusted proxy', async () => {
    const r = await edgeCall(srv.port, {
      path: '/healthz',
      ca: t.ca.certPem,
      cert: t.customer,
      headers: { 'x-forwarded-for': 'not-an-ip' },
    });
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'bad_request');
  });
});

describe('IP policy over IPv6', () => {
  let t: TestDir;
  let srv: RunningVault;
  before(async () => {
    t = await makeTestDir();
    srv = await startEdge(withConfig(t.config, { network: { deny: ['::1/128'] } }), '::1');
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });

  it('drops a denied IPv6 peer before TLS', async () => {
    const probe = await tcpProbe(srv.port, '::1', '::1');
    assert.ok(probe.closedMs !== undefined && probe.closedMs < 2500);
    assert.ok(
      readAuthzLog(t.dir).some(
        (e) => e.sourceIp === '::1' && e.reason === 'source address not allowed',
      ),
    );
  });
});

describe('IP rules at start-up', () => {
  it('stops the start-up with one line naming an unparseable rule', async () => {
    const t = await makeTestDir();
    try {
      const file = join(t.dir, 'vulnvault.json');
      const cfg = JSON.parse(readFileSync(file, 'utf8'));
      cfg.network = { allow: ['127.0.0.1/8', '10.0.0.0/33'], deny: [], trustedProxies: [] };
      writeFileSync(file, JSON.stringify(cfg));
      const r = runCli(['serve', '--dir', t.dir, '--port', '0']);
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        /^vulnvault: config .*\/network\/allow\/1 '10\.0\.0\.0\/33' has an invalid prefix length/,
      );
      assert.equal(r.stderr.trim().split('\n').length, 1);
    } finally {
      t.cleanup();
    }
  });
});
