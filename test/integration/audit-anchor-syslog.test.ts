// LO 1.5: every signed head also goes to a syslog collector over TLS
// (RFC 5424 messages, RFC 5425 octet-counting framing), the collector's
// certificate checked against its configured CA, with a client certificate.
// The collector is a small TLS receiver on 127.0.0.1 whose certificates are
// made by the project's own PKI code. A collector that is down, or that
// presents a certificate from another CA, is reported in the server log and
// never blocks a request.

import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { createServer } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkpointValid, type Checkpoint } from '../../src/audit/checkpoint.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createCa, issueCertificate, type PemPair } from '../../src/pki/issue.js';
import { startSyslogReceiver } from '../helpers/syslog.js';
import { call, makeTestDir, startVault, waitFor, type TestDir } from '../helpers/vault.js';

const HOUR = 3_600_000;
const MESSAGE =
  /^<109>1 (\S+) (\S+) vulnvault (\d+) audit-head \[vulnvault-head@32473 log="([a-z-]+)" seq="(\d+)" hash="([0-9a-f]{64})"\] (\{.*\})$/;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

interface LogLine {
  msg: string;
  anchor?: string;
  err?: string;
  waiting?: number;
}
const logLines = (logs: string[]): LogLine[] => logs.map((l) => JSON.parse(l) as LogLine);

describe('syslog anchor over TLS', () => {
  let t: TestDir;
  let ca: PemPair;
  let collector: PemPair;
  let files: string;

  before(async () => {
    t = await makeTestDir();
    const notAfter = new Date(Date.now() + HOUR);
    ca = await createCa({ cn: 'syslog test CA', o: 'collectors' }, notAfter);
    collector = await issueCertificate(ca, {
      kind: 'server',
      subject: { cn: 'collector' },
      sans: ['127.0.0.1'],
      notAfter,
    });
    const client = await issueCertificate(ca, {
      kind: 'client',
      subject: { cn: 'vulnvault-audit', o: 'collectors' },
      notAfter,
    });
    files = join(t.dir, '..', 'collector-pki');
    mkdirSync(files);
    writeFileSync(join(files, 'ca.crt'), ca.certPem);
    writeFileSync(join(files, 'client.crt'), client.certPem);
    writeFileSync(join(files, 'client.key'), client.keyPem, { mode: 0o600 });
  });
  after(() => t.cleanup());

  /** The test directory's config with the collector on `port`, through the validated file. */
  function withSyslog(port: number): Config {
    const file = join(t.dir, 'vulnvault.json');
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    cfg.audit.checkpointEvery = 4;
    cfg.audit.anchor = {
      syslog: {
        host: '127.0.0.1',
        port,
        ca: join(files, 'ca.crt'),
        cert: join(files, 'client.crt'),
        key: join(files, 'client.key'),
      },
    };
    writeFileSync(file, JSON.stringify(cfg));
    return loadConfig(t.dir);
  }

  async function requests(port: number, count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const r = await call(port, { path: '/vuln?org=org1', ca: t.ca.certPem, cert: t.customer });
      assert.equal(r.status, 200);
    }
  }

  const headsIn = (messages: string[]) =>
    messages.map((m) => {
      const p = MESSAGE.exec(m);
      assert.ok(p, `not an RFC 5424 head message: ${m}`);
      const head = JSON.parse(p[7]!) as Checkpoint;
      assert.deepEqual([p[4], Number(p[5]), p[6]], [head.log, head.seq, head.hash]);
      assert.ok(!Number.isNaN(Date.parse(p[1]!)), 'TIMESTAMP');
      return head;
    });

  it('delivers every new signed head to the collector, over mutual TLS', async () => {
    const rx = await startSyslogReceiver({ server: collector, clientCa: ca.certPem });
    try {
      const srv = await startVault(withSyslog(rx.port));
      await requests(srv.port, 6);
      await srv.close();
      const heads = () => headsIn(rx.messages);
      await waitFor(() => heads().some((h) => h.log === 'authz' && h.seq === 6), 5000);

      const pub = createPublicKey(readFileSync(join(t.dir, 'keys', 'audit-signing.pub')));
      for (const h of heads()) assert.ok(checkpointValid(h, pub), `${h.log} ${h.seq} is signed`);
      assert.deepEqual(
        heads()
          .filter((h) => h.log === 'authz')
          .map((h) => h.seq),
        [4, 6],
      );
      assert.deepEqual(
        new Set(heads().map((h) => h.log)),
        new Set(['authz', 'data-access', 'access']),
      );
      // The same heads as the local anchor.
      const local = readFileSync(join(`${t.dir}.audit-anchor`, 'heads.json'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Checkpoint);
      for (const l of local) {
        assert.deepEqual(
          heads()
            .filter((h) => h.log === l.log)
            .at(-1),
          l,
          `${l.log}: the collector has the latest head`,
        );
      }
      assert.ok(
        rx.clients.some((s) => s.includes('CN=vulnvault-audit')),
        'client certificate',
      );
      assert.equal(
        logLines(srv.logs).filter((l) => l.msg.startsWith('audit anchor')).length,
        0,
        'no anchor failures',
      );
    } finally {
      await rx.close();
    }
  });

  it('reports a collector that is down, keeps serving, and delivers once it is back', async () => {
    const port = await freePort();
    const srv = await startVault(withSyslog(port));
    let rx: Awaited<ReturnType<typeof startSyslogReceiver>> | undefined;
    try {
      await requests(srv.port, 5);
      const failures = () =>
        logLines(srv.logs).filter(
          (l) =>
            l.msg === 'audit anchor did not take the latest heads' &&
            l.anchor === `syslog 127.0.0.1:${port}`,
        );
      await waitFor(() => failures().length > 0, 5000);
      assert.match(failures()[0]!.err ?? '', /ECONNREFUSED/);
      assert.ok((failures()[0]!.waiting ?? 0) >= 1, 'says how many heads wait');

      rx = await startSyslogReceiver({ server: collector, clientCa: ca.certPem, port });
      const receiver = rx;
      await waitFor(
        () => headsIn(receiver.messages).some((h) => h.log === 'authz' && h.seq >= 4),
        10_000,
      );
      await waitFor(
        () =>
          logLines(srv.logs).some(
            (l) => l.msg === 'audit anchor reachable again; waiting heads delivered',
          ),
        2000,
      );
    } finally {
      await srv.close();
      await rx?.close();
    }
  });

  it('refuses, and reports, a collector whose certificate is not from the configured CA', async () => {
    const other = await createCa({ cn: 'someone else', o: 'x' }, new Date(Date.now() + HOUR));
    const impostor = await issueCertificate(other, {
      kind: 'server',
      subject: { cn: 'collector' },
      sans: ['127.0.0.1'],
      notAfter: new Date(Date.now() + HOUR),
    });
    const rx = await startSyslogReceiver({ server: impostor });
    try {
      const srv = await startVault(withSyslog(rx.port));
      await requests(srv.port, 4);
      await waitFor(
        () =>
          logLines(srv.logs).some(
            (l) =>
              l.msg === 'audit anchor did not take the latest heads' &&
              /certificate/i.test(l.err ?? ''),
          ),
        5000,
      );
      await srv.close();
      assert.deepEqual(rx.messages, [], 'no head reached the impostor');
    } finally {
      await rx.close();
    }
  });
});
