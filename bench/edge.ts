// npm run bench:edge — what the edge's controls cost, measured in one run:
//   (1) bare node:https with vulnvault's TLS settings, fixed ~1 KB JSON
//   (1b) the same with a body the size of vulnvault's page
//   (1c) the same reading the page from SQLite on every request (the floor
//        of any SQLite-backed server: one prepared statement + JSON)
//   (2) vulnvault GET /vuln?org=org1 → a page of 100 findings through the
//       whole pipeline (IP policy, connection gate, throttle with a high
//       limit, validation, authorization, authz log, access log, SQLite)
// Both are loaded over mTLS with keep-alive by autocannon (requests/s,
// p50/p99 latency), then with new connections (TLS handshakes/s with session
// resumption; each connection makes one request). Servers run in their own
// processes, built from dist/. Prints a table and writes bench/out/*.json.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type SecureContextOptions, type TLSSocket } from 'node:tls';
import autocannon from 'autocannon';
import { openFindingsDb } from '../src/adapters/sqlite/database.js';
import { createSqliteFindingsWriter } from '../src/adapters/sqlite/findings-writer.js';
import { sqliteFindingCiphers } from '../src/adapters/sqlite/ciphers.js';
import { initDir } from '../src/cli/commands/init.js';
import { loadConfig } from '../src/config/config.js';

const ROOT = join(import.meta.dirname, '..');
const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const HANDSHAKE_SECONDS = Number(process.env.BENCH_HANDSHAKE_SECONDS ?? 5);

function start(args: string[], pattern: RegExp): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = pattern.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  bytesPerReq: number;
  errors: number;
  non2xx: number;
  /** The server process's CPU time (all threads) per request, in µs. */
  cpuUsPerReq: number;
}

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat. */
function cpuSecs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100/s on Linux).
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function load(
  server: { port: number; child: ChildProcess },
  path: string,
  tls: SecureContextOptions,
  seconds: number,
): Promise<Load> {
  const { port } = server;
  const cpu0 = cpuSecs(server.child.pid as number);
  const r = await autocannon({
    url: `https://127.0.0.1:${port}${path}`,
    connections: CONNECTIONS,
    duration: seconds,
    servername: 'localhost',
    tlsOptions: tls,
  });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    bytesPerReq: r.requests.total > 0 ? Math.round(r.throughput.total / r.requests.total) : 0,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    cpuUsPerReq:
      r.requests.total > 0
        ? ((cpuSecs(server.child.pid as number) - cpu0) / r.requests.total) * 1e6
        : 0,
  };
}

/** New TLS connections per second, each resuming the previous session and making one request. */
async function handshakes(
  port: number,
  path: string,
  tls: SecureContextOptions,
  seconds: number,
): Promise<{ perSecond: number; resumed: number; failed: number }> {
  const end = Date.now() + seconds * 1000;
  let done = 0;
  let resumed = 0;
  let failed = 0;
  const worker = async () => {
    let session: Buffer | undefined;
    while (Date.now() < end) {
      const ok = await new Promise<boolean>((resolve) => {
        const s: TLSSocket = connect({
          host: '127.0.0.1',
          port,
          servername: 'localhost',
          ...tls,
          ...(session ? { session } : {}),
        });
        let data = '';
        s.on('session', (b: Buffer) => (session = b));
        s.on('secureConnect', () => {
          if (s.isSessionReused()) resumed++;
          s.write(`GET ${path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n`);
        });
        s.on('data', (c: Buffer) => (data += c.toString('latin1')));
        s.on('error', () => resolve(false));
        s.on('close', () => resolve(data.startsWith('HTTP/1.1 200')));
      });
      if (ok) done++;
      else failed++;
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: 8 }, worker));
  const secs = (Date.now() - t0) / 1000;
  return { perSecond: done / secs, resumed: done > 0 ? resumed / (done + failed) : 0, failed };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'vulnvault-bench-'));
  const dir = join(work, 'vv');
  await initDir(dir, false, { write: () => true });
  const cfgFile = join(dir, 'vulnvault.json');
  const cfg = JSON.parse(readFileSync(cfgFile, 'utf8')) as Record<string, unknown>;
  // A high limit: the throttle runs on every request but never refuses.
  cfg.throttle = {
    global: { rate: 1e9, burst: 1e9 },
    defaultPlan: 'bench',
    plans: { bench: { rate: 1e9, burst: 1e9 } },
    assignments: {},
  };
  cfg.limits = { maxConnectionsPerIp: 10_000 };
  writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
  const db = openFindingsDb(join(dir, 'data', 'findings.db'));
  const ciphers = await sqliteFindingCiphers(loadConfig(dir), db);
  await createSqliteFindingsWriter(db, { ciphers }).insertSeedBatch(
    Array.from({ length: 250 }, (_, i) => ({
      vulnId: `VULN-${String(i).padStart(5, '0')}`,
      org: 'org1',
      asset: `web-${i % 17}`,
      dueDate: '2026-12-31',
      pluginId: String(19506 + i),
      title: 'Nessus Scan Information',
      priority: 'P1',
    })),
  );
  ciphers.close();
  db.close();

  const tls = {
    cert: readFileSync(join(dir, 'pki', 'clients', 'customer.crt')),
    key: readFileSync(join(dir, 'pki', 'clients', 'customer.key')),
    ca: readFileSync(join(dir, 'pki', 'ca.crt')),
  };
  const load0 = loadavg();
  const results: Record<
    string,
    { load: Load; handshakes: Awaited<ReturnType<typeof handshakes>> }
  > = {};

  for (const [name, items, mode] of [
    ['bare', 8, 'fixed'],
    ['bareSameBody', 100, 'fixed'],
    ['bareSqlite', 100, 'sqlite'],
  ] as const) {
    const bare = await start(
      [join(ROOT, 'bench', 'bare-server.mjs'), dir, String(items), mode],
      /listening on https:\/\/127\.0\.0\.1:(\d+)/,
    );
    try {
      await load(bare, '/', tls, 2); // warm-up
      results[name] = {
        load: await load(bare, '/', tls, DURATION),
        handshakes: await handshakes(bare.port, '/', tls, HANDSHAKE_SECONDS),
      };
    } finally {
      await stop(bare.child);
    }
  }

  const profile = process.env.BENCH_PROFILE
    ? [`--cpu-prof`, `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
    : [];
  const vault = await start(
    [...profile, join(ROOT, 'dist', 'src', 'cli', 'main.js'), 'serve', '--dir', dir, '--port', '0'],
    /listening on https:\/\/127\.0\.0\.1:(\d+)/,
  );
  const path = '/vuln?org=org1';
  try {
    await load(vault, path, tls, 2);
    results.vulnvault = {
      load: await load(vault, path, tls, DURATION),
      handshakes: await handshakes(vault.port, path, tls, HANDSHAKE_SECONDS),
    };
  } finally {
    await stop(vault.child);
  }
  const load1 = loadavg();

  const b = results.bare as (typeof results)[string];
  const b100 = results.bareSameBody as (typeof results)[string];
  const bSql = results.bareSqlite as (typeof results)[string];
  const v = results.vulnvault;
  const ratio = v.load.rps / b.load.rps;
  const sameBodyRatio = v.load.rps / b100.load.rps;
  const hsRatio = v.handshakes.perSecond / b.handshakes.perSecond;
  const row = (name: string, r: (typeof results)[string]) =>
    `| ${name.padEnd(42)} | ${r.load.rps.toFixed(0).padStart(7)} | ${String(r.load.p50).padStart(4)} | ${String(r.load.p99).padStart(4)} | ${String(r.load.bytesPerReq).padStart(7)} | ${r.handshakes.perSecond.toFixed(0).padStart(12)} | ${(r.handshakes.resumed * 100).toFixed(0).padStart(6)}% | ${r.load.cpuUsPerReq.toFixed(0).padStart(10)} |`;
  const table = [
    `bench:edge — ${DURATION}s per run, ${CONNECTIONS} keep-alive mTLS connections (autocannon), ${cpus().length} CPUs, load avg ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')}`,
    '',
    `| ${'server'.padEnd(42)} |   req/s | p50 ms | p99 ms | B/resp | handshakes/s | resumed | CPU µs/req |`,
    `| ${'-'.repeat(42)} | ------: | -----: | -----: | -----: | -----------: | ------: | ---------: |`,
    row('(1) bare node:https, same TLS, ~1 KB JSON', b),
    row('(1b) bare node:https, same TLS, same body', b100),
    row('(1c) bare node:https + the same SQLite page', bSql),
    row('(2) vulnvault GET /vuln?org=org1, 100 items', v),
    '',
    `ratio (2)/(1) requests/s: ${ratio.toFixed(2)} (target >= 0.70)    handshakes/s: ${hsRatio.toFixed(2)}`,
    `ratio (2)/(1b) requests/s, same response body: ${sameBodyRatio.toFixed(2)}`,
    `ceiling for any SQLite-backed page, (1c)/(1): ${(bSql.load.rps / b.load.rps).toFixed(2)}    pipeline cost, (2)/(1c): ${(v.load.rps / bSql.load.rps).toFixed(2)}`,
    `pipeline cost in server CPU per request, (1c)/(2): ${(bSql.load.cpuUsPerReq / v.load.cpuUsPerReq).toFixed(2)} (${bSql.load.cpuUsPerReq.toFixed(0)} µs vs ${v.load.cpuUsPerReq.toFixed(0)} µs; steadier than req/s on a shared host)`,
    `errors: bare ${b.load.errors + b.load.non2xx}, vulnvault ${v.load.errors + v.load.non2xx}; failed handshakes: bare ${b.handshakes.failed}, vulnvault ${v.handshakes.failed}`,
  ].join('\n');
  process.stdout.write(`${table}\n`);

  const outDir = join(ROOT, 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `edge-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        loadavg: { before: load0, after: load1 },
        durationSeconds: DURATION,
        connections: CONNECTIONS,
        results,
        ratio,
        sameBodyRatio,
        sqliteCeiling: bSql.load.rps / b.load.rps,
        pipelineVsSqlite: v.load.rps / bSql.load.rps,
        pipelineCpuVsSqlite: bSql.load.cpuUsPerReq / v.load.cpuUsPerReq,
        handshakeRatio: hsRatio,
      },
      null,
      2,
    ),
  );
  process.stdout.write(`wrote ${file}\n`);
  rmSync(work, { recursive: true, force: true });
}

await main();
