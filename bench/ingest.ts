// npm run bench:ingest — ingest throughput and memory, from one run, for two
// formats: Nessus v2 XML and SARIF 2.1.0 (BENCH_INGEST_FORMATS=nessus,sarif):
//   1. generate a ~100 MB synthetic export (Nessus: ~130k ReportItems over ~3k
//      hosts; SARIF: a CodeQL-like run with ~150k results)
//   2. baseline: a bare streaming parse of the file (Nessus: saxes; SARIF:
//      @streamparser/json selecting each result), handlers only counting
//   3. spawn the real server (`vulnvault serve`, its own process) and upload the
//      file over mTLS into SQLite, twice; the server's peak RSS is read from
//      /proc/PID/status (VmHWM) after each upload
// Steps 3 runs BENCH_INGEST_ROUNDS times (3), each with a new directory and
// server; the table shows the median round of each upload.
// Prints a table and writes bench/out/ingest.json. Speed and memory are only
// ever measured here, never in unit tests.

import { spawn, spawnSync } from 'node:child_process';
import {
  rmSync,
  createReadStream,
  createWriteStream,
  readdirSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { JSONParser } from '@streamparser/json';
import { SaxesParser } from 'saxes';
import { uploadScan } from '../src/client/upload.js';
import { generateNessus } from './generate-nessus.js';
import { generateSarif } from './generate-sarif.js';

const ROOT = join(import.meta.dirname, '..');
const OUT = join(ROOT, 'bench', 'out');
const HOSTS = 3000;
const ITEMS = 130_000;
const SARIF_RESULTS = 150_000;
const SARIF_FILES = 4000;

interface Format {
  name: 'nessus' | 'sarif';
  file: string;
  mediaType: string;
  /** what the file holds, for the table */
  describe: (items: number) => string;
  generate: (file: string) => Promise<void>;
  bare: (file: string) => Promise<{ secs: number; items: number }>;
  bareName: string;
}

const FORMATS: Format[] = [
  {
    name: 'nessus',
    file: join(OUT, 'synthetic-130k-v2.nessus'),
    mediaType: 'application/vnd.tenable.nessus+xml',
    describe: (n) => `${n} ReportItems over ${HOSTS} hosts`,
    generate: (f) => generateNessus(f, HOSTS, ITEMS),
    bare: bareSaxes,
    bareName: 'bare saxes parse (median of 5)',
  },
  {
    name: 'sarif',
    file: join(OUT, 'synthetic-150k.sarif'),
    mediaType: 'application/sarif+json',
    describe: (n) => `${n} SARIF results over ${SARIF_FILES} files, one CodeQL-like run`,
    generate: (f) => generateSarif(f, SARIF_RESULTS, SARIF_FILES),
    bare: bareJson,
    bareName: 'bare streaming JSON (median of 5)',
  },
];
// The server runs as it ships (`npm start`): the compiled JavaScript in dist/,
// built by `npm run build` (the bench:ingest script builds first).
const MAIN = join(ROOT, 'dist', 'src', 'cli', 'main.js');
const NODE_ARGS = [MAIN];

const MB = 1024 * 1024;

async function bareSaxes(file: string): Promise<{ secs: number; items: number }> {
  const t0 = process.hrtime.bigint();
  const parser = new SaxesParser({ xmlns: false, position: true });
  let items = 0;
  parser.on('opentag', (t) => {
    if (t.name === 'ReportItem') items++;
  });
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    parser.write(decoder.decode(chunk as Buffer, { stream: true }));
  }
  parser.close();
  return { secs: Number(process.hrtime.bigint() - t0) / 1e9, items };
}

/** The bare streaming JSON parse SARIF uploads use: each result built, then counted. */
async function bareJson(file: string): Promise<{ secs: number; items: number }> {
  const t0 = process.hrtime.bigint();
  const parser = new JSONParser({
    paths: ['$.runs.*.results.*'],
    keepStack: false,
    stringBufferSize: 64 * 1024,
  });
  let items = 0;
  parser.onValue = () => {
    items++;
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    parser.write(chunk as Buffer);
  }
  return { secs: Number(process.hrtime.bigint() - t0) / 1e9, items };
}

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat. */
function cpuSecs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100/s on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds per thread name (comm), summed, from /proc/PID/task/*. */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(
        `${name}#${tid}`,
        (out.get(`${name}#${tid}`) ?? 0) + (Number(f[11]) + Number(f[12])) / 100,
      );
    } catch {
      // the thread ended
    }
  }
  return out;
}

function peakRssMb(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { peak: kb('VmHWM') / 1024, now: kb('VmRSS') / 1024 };
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const wanted = (process.env.BENCH_INGEST_FORMATS ?? 'nessus,sarif').split(',');
  const results: Record<string, unknown> = {};
  for (const f of FORMATS.filter((x) => wanted.includes(x.name))) {
    results[f.name] = await section(f);
  }
  writeFileSync(join(OUT, 'ingest.json'), JSON.stringify(results, null, 2));
}

async function section(fmt: Format): Promise<unknown> {
  const FILE = fmt.file;
  if (!existsSync(FILE)) {
    process.stderr.write(`generating ${FILE} …\n`);
    await fmt.generate(FILE);
  }
  const size = statSync(FILE).size;
  const load0 = loadavg();

  // Warm the page cache so both measurements read the file from memory. The
  // baseline is the median of 5 runs: this machine's speed drifts by ±20 %
  // from one second to the next, and one slow baseline run would flatter the
  // ratio.
  await fmt.bare(FILE);
  const bareRuns: { secs: number; items: number }[] = [];
  for (let i = 0; i < 5; i++) bareRuns.push(await fmt.bare(FILE));
  bareRuns.sort((a, b) => a.secs - b.secs);
  const bare = bareRuns[2] as { secs: number; items: number };

  interface Run {
    secs: number;
    body: Record<string, number>;
    peak: number;
    serverCpu: number;
    clientCpu: number;
  }
  // Experiments only (e.g. BENCH_NODE_ARGS='--trace-gc'): the table is for the server as it ships.
  const extraNodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

  /** One round: a new directory, a new server process, the file uploaded twice. */
  async function round(n: number): Promise<{ runs: Run[]; idle: { now: number } }> {
    const dir = join(OUT, `vault-${process.pid}-${n}`);
    const init = spawnSync(process.execPath, [...NODE_ARGS, 'init', '--dir', dir, '--force'], {
      encoding: 'utf8',
    });
    if (init.status !== 0) throw new Error(`init failed: ${init.stderr}`);
    const profile = process.env.BENCH_CPU_PROF
      ? ['--cpu-prof', `--cpu-prof-dir=${join(OUT, 'prof')}`]
      : [];
    const server = spawn(
      process.execPath,
      [...profile, ...extraNodeArgs, ...NODE_ARGS, 'serve', '--dir', dir, '--port', '0'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, VULNVAULT_LOG_LEVEL: 'warn' },
      },
    );
    const exited = new Promise((resolve) => server.on('exit', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const log =
        extraNodeArgs.length > 0 ? createWriteStream(join(OUT, 'server-stdout.log')) : null;
      server.stdout.on('data', (c: Buffer) => {
        log?.write(c);
        out += c.toString();
        const m = /listening on (https:\/\/\S+)/.exec(out);
        if (m) resolve(m[1] as string);
      });
      server.on('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    const pid = server.pid as number;
    const idle = peakRssMb(pid);
    const pki = join(dir, 'pki');
    const target = {
      url,
      cert: readFileSync(join(pki, 'clients', 'scanner.crt'), 'utf8'),
      key: readFileSync(join(pki, 'clients', 'scanner.key'), 'utf8'),
      ca: readFileSync(join(pki, 'ca.crt'), 'utf8'),
    };
    const runs: Run[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const server0 = cpuSecs(pid);
        const threads0 = threadCpu(pid);
        const client0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        const res = await uploadScan({
          ...target,
          org: 'org1',
          file: FILE,
          mediaType: fmt.mediaType,
        });
        const secs = Number(process.hrtime.bigint() - t0) / 1e9;
        if (res.status !== 201) throw new Error(`upload ${i + 1}: HTTP ${res.status} ${res.text}`);
        const client = process.cpuUsage(client0);
        if (process.env.BENCH_THREADS) {
          const d = [...threadCpu(pid)]
            .filter(([k, v]) => v - (threads0.get(k) ?? 0) >= 0.01)
            .map(([k, v]) => `${k} ${(v - (threads0.get(k) ?? 0)).toFixed(2)}`);
          process.stderr.write(`upload ${i + 1} server threads: ${d.join(', ')}\n`);
        }
        runs.push({
          secs,
          body: res.body as Record<string, number>,
          peak: peakRssMb(pid).peak,
          serverCpu: cpuSecs(pid) - server0,
          clientCpu: (client.user + client.system) / 1e6,
        });
      }
    } finally {
      server.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
      rmSync(`${dir}.key-admin`, { recursive: true, force: true });
    }
    return { runs, idle };
  }

  // Rounds, each with a new directory; the table shows the median round of
  // each upload (by time), every round is listed below it, and the peak RSS
  // is the highest of all rounds.
  const ROUNDS = Math.max(1, Number(process.env.BENCH_INGEST_ROUNDS ?? 3));
  const rounds: { runs: Run[]; idle: { now: number } }[] = [];
  for (let n = 0; n < ROUNDS; n++) rounds.push(await round(n));
  const idle = { now: Math.max(...rounds.map((r) => r.idle.now)) };
  const medianOf = (i: number): Run => {
    const sorted = rounds.map((r) => r.runs[i] as Run).sort((x, y) => x.secs - y.secs);
    const mid = sorted[Math.floor((sorted.length - 1) / 2)] as Run;
    return { ...mid, peak: Math.max(...sorted.map((r) => r.peak)) };
  };
  const runs = [medianOf(0), medianOf(1)];
  const load1 = loadavg();
  const bareMBs = size / MB / bare.secs;
  const rows = runs.map((r, i) => {
    const mbs = size / MB / r.secs;
    return {
      run: i === 0 ? 'upload 1 (new)' : 'upload 2 (same file)',
      seconds: r.secs,
      mbPerSec: mbs,
      findingsPerSec: (r.body.received ?? 0) / r.secs,
      ratio: mbs / bareMBs,
      peakRssMb: r.peak,
      serverCpuSecs: r.serverCpu,
      clientCpuSecs: r.clientCpu,
      counts: r.body,
    };
  });
  const pad = (s: string, n: number) => s.padEnd(n);
  const lines = [
    `${fmt.name}: ${(size / MB).toFixed(1)} MiB, ${fmt.describe(bare.items)}; ${cpus().length} CPUs; load avg before ${load0.map((x) => x.toFixed(2)).join(' ')}, after ${load1.map((x) => x.toFixed(2)).join(' ')}`,
    '',
    `${pad('measurement', 34)}${pad('seconds', 10)}${pad('MiB/s', 9)}${pad('findings/s', 12)}${pad('vs bare', 9)}server peak RSS`,
    `${pad(fmt.bareName, 34)}${pad(bare.secs.toFixed(2), 10)}${pad(bareMBs.toFixed(1), 9)}${pad((bare.items / bare.secs).toFixed(0), 12)}${pad('100 %', 9)}-`,
    ...rows.map(
      (r) =>
        `${pad(`vulnvault ${r.run}`, 34)}${pad(r.seconds.toFixed(2), 10)}${pad(r.mbPerSec.toFixed(1), 9)}${pad(r.findingsPerSec.toFixed(0), 12)}${pad(`${(r.ratio * 100).toFixed(0)} %`, 9)}${r.peakRssMb.toFixed(0)} MiB`,
    ),
    '',
    ...rows.map(
      (r) =>
        `${r.run}: CPU seconds used on the ${cpus().length} cores: server ${r.serverCpuSecs.toFixed(2)}, upload client ${r.clientCpuSecs.toFixed(2)}`,
    ),
    `${ROUNDS} rounds (a new directory and server each); the table shows the median round of each upload.`,
    ...[0, 1].map(
      (i) =>
        `upload ${i + 1}, every round: ${rounds
          .map((r) => {
            const secs = (r.runs[i] as Run).secs;
            return `${secs.toFixed(2)} s (${((size / MB / secs / bareMBs) * 100).toFixed(0)} %)`;
          })
          .join(', ')}`,
    ),
    `server RSS when idle before the uploads: ${idle.now.toFixed(0)} MiB`,
    `upload 1: ${JSON.stringify(rows[0]?.counts)}`,
    `upload 2: ${JSON.stringify(rows[1]?.counts)}`,
    '',
    `targets: end-to-end ≥ 50 % of bare parse: ${rows.every((r) => r.ratio >= 0.5) ? 'met' : 'NOT met'}; ` +
      `server peak RSS < 300 MiB: ${rows.every((r) => r.peakRssMb < 300) ? 'met' : 'NOT met'}; ` +
      `re-upload not slower: ${(rows[1]?.seconds ?? Infinity) <= (rows[0]?.seconds ?? 0) * 1.05 ? 'met' : 'NOT met'} (5 % tolerance)`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return {
    size,
    bare: { ...bare, mbPerSec: bareMBs, all: bareRuns.map((r) => r.secs) },
    idle,
    runs: rows,
    rounds: rounds.map((r) => r.runs.map((x) => ({ seconds: x.secs, peakRssMb: x.peak }))),
    load0,
    load1,
  };
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:ingest failed: ${(err as Error).message}\n`);
  process.exit(1);
});
