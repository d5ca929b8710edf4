// npm run bench:query — read latency of the findings list and summary on
// SQLite with one large org (issue 16): BENCH_QUERY_FINDINGS findings
// (1,000,000 by default) in org1, read through the real FindingsReader on a
// read-only connection, a page of 100 (fields 'list'):
//   (a) the plain list: first page and deep pages (cursors spread over the org)
//   (b) active=true&sort=priority: first and deep pages
//   (c) overdue=true&severity=critical: first and deep pages
//   (d) q= text search: a word in ~7 % of titles, and a rare one (~0.03 %)
//   (e) the summary (top 10)
// Baseline in the same run, on the same connection: the bare SQL page
// `SELECT <plain columns> FROM findings WHERE org = ? AND seq > ? ORDER BY seq
// LIMIT 101`, first and deep. Each row: warm-up, then BENCH_QUERY_ITERATIONS
// (300) timed calls (the summary: fewer when slow, at most ~30 s); p50, p99,
// max in ms, and PASS/FAIL against the target.
//
// The database is built once per (N, BUILD_VERSION) under
// bench/out/query-<N>-v<BUILD_VERSION>/ and reused by later runs (the
// writer connection opening it applies any newer migration, as a server
// start would). It is built through the real write path:
//   - KEV and EPSS feeds through the FeedStore (createSqliteFeedStore)
//   - findings through the scan importer (writer.beginScanImport: sealed
//     with the org's data key, in batches of 2,000), as SCANS chronological
//     scans spread over the year before now. The importer stamps times with
//     `new Date()`: during the build the global Date runs at an offset (the
//     scan's day), so first-seen, SLA due times and fixed times spread over
//     the year. Each scan adds new hosts and rescans 10 % of the hosts of the
//     scan six before it with 70 % of their findings (the rest become fixed).
//   - people's analysis through the triage store (createSqliteTriageStore,
//     bulkSetAnalysis by ids): false_positive, not_affected, risk_accepted
//     (half expired, half in force), in_triage.
// Prints the table and writes bench/out/query.json. Speed is only ever
// measured here, never in unit tests.

import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { createSqliteDataKeyStore } from '../src/adapters/sqlite/data-key-store.js';
import {
  openFindingsDb,
  openFindingsDbReadOnly,
  type Db,
} from '../src/adapters/sqlite/database.js';
import { createSqliteFeedStore } from '../src/adapters/sqlite/feed-store.js';
import { createSqliteFindingsReader } from '../src/adapters/sqlite/findings-reader.js';
import { createSqliteFindingsWriter } from '../src/adapters/sqlite/findings-writer.js';
import { createSqliteTriageStore } from '../src/adapters/sqlite/triage-store.js';
import { WriteLock } from '../src/adapters/sqlite/write-lock.js';
import type { EpssScore, KevEntry } from '../src/core/feeds.js';
import { newFinding, type ScannedFinding, type Severity } from '../src/core/finding.js';
import type { FindingFilter, FindingsAfter, FindingsReader } from '../src/core/ports.js';
import type { TriageChange } from '../src/core/triage.js';
import { createDataKeys } from '../src/crypto/data-keys.js';
import { createFindingCiphers, type FindingCiphers } from '../src/crypto/finding-ciphers.js';
import { createKeyring } from '../src/crypto/key-admin.js';
import { createLocalKeyProvider } from '../src/crypto/local-key-provider.js';

const ROOT = join(import.meta.dirname, '..');
const OUT = join(ROOT, 'bench', 'out');
/** Bump when the generated data changes: a new cache directory is built. */
const BUILD_VERSION = 2;
const N = Number(process.env.BENCH_QUERY_FINDINGS ?? 1_000_000);
const ITERATIONS = Math.max(1, Number(process.env.BENCH_QUERY_ITERATIONS ?? 300));
const WARMUP = 20;
const ORG = 'org1';
const LIMIT = 100;
const DAY = 86_400_000;
const FINDINGS_PER_HOST = 50;
const SCANS = 100;
const BATCH = 2000;
const PLUGINS = 3001; // prime: a host's 50 findings get 50 distinct plugins
const CVE_POOL = 20_000;
/** A word in about one title in 15, and one in a single plugin's title. */
const Q_COMMON = 'openssh';
const Q_RARE = 'log4j';

// ---- deterministic data ------------------------------------------------------

/** mulberry32: a small seeded PRNG, so every build of N has the same data. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const cveName = (i: number) => `CVE-${2015 + (i % 10)}-${String(10000 + i).padStart(5, '0')}`;

const PRODUCTS = [
  'OpenSSH',
  'Apache HTTP Server',
  'nginx',
  'OpenSSL',
  'Microsoft Windows',
  'PHP',
  'jQuery',
  'Oracle Java SE',
  'PostgreSQL',
  'MySQL',
  'Samba',
  'Apache Tomcat',
  'Microsoft Exchange',
  'VMware ESXi',
  'Cisco IOS',
];

interface Plugin {
  id: string;
  title: string;
  severity: Severity;
  severityRaw: string;
  cvss3: number | null;
  cves: string[];
}

function plugins(): Plugin[] {
  const r = rng(7);
  const out: Plugin[] = [];
  for (let i = 0; i < PLUGINS; i++) {
    const x = r();
    // 1 % critical, 9 % high, 30 % medium, 30 % low, 30 % info (of findings:
    // each host gets 50 distinct plugins spread over the pool).
    const severity: Severity =
      x < 0.01 ? 'critical' : x < 0.1 ? 'high' : x < 0.4 ? 'medium' : x < 0.7 ? 'low' : 'info';
    const rank = { info: 0, low: 1, medium: 2, high: 3, critical: 4 }[severity];
    const cvss3 =
      severity === 'info'
        ? null
        : Math.round(([0, 2, 4, 7, 9][rank] as number) * 10 + r() * (rank === 4 ? 10 : 29)) / 10;
    // ~30 % with 1–3 CVEs, popular CVEs more often (r()^2).
    const cves =
      severity !== 'info' && r() < 0.43
        ? [
            ...new Set(
              Array.from({ length: 1 + Math.floor(r() * 3) }, () =>
                cveName(Math.floor(r() ** 2 * CVE_POOL)),
              ),
            ),
          ]
        : [];
    const product = PRODUCTS[Math.floor(r() * PRODUCTS.length)] as string;
    const title =
      i === 1234
        ? 'Apache Log4j 2.x < 2.17.1 Remote Code Execution'
        : severity === 'info'
          ? `${product} Service Detection (${i})`
          : `${product} ${1 + (i % 9)}.${i % 13}.x < ${2 + (i % 9)}.0 Multiple Vulnerabilities (${i})`;
    out.push({ id: String(10000 + i), title, severity, severityRaw: String(rank), cvss3, cves });
  }
  return out;
}

const PARAGRAPH =
  'The remote host is running a version of the software that is affected by multiple ' +
  'vulnerabilities, including a flaw in the handling of crafted requests that may allow an ' +
  'unauthenticated remote attacker to execute arbitrary code or cause a denial of service. ' +
  'Note that the scanner has not tested for these issues but has instead relied only on the ' +
  "application's self-reported version number.";

/** Finding i of host h: the same every time it is generated (rescans match). */
function finding(pool: Plugin[], h: number, i: number): ScannedFinding {
  const p = pool[(h * 7919 + i * 104729) % PLUGINS] as Plugin;
  return newFinding({
    asset: `host-${String(h).padStart(6, '0')}.corp.example`,
    scanner: 'nessus',
    pluginId: p.id,
    port: i % 3 === 0 ? 443 : i % 3 === 1 ? 22 : 0,
    protocol: i % 3 === 2 ? '' : 'tcp',
    title: p.title,
    severity: p.severity,
    severityRaw: p.severityRaw,
    cvss3Score: p.cvss3,
    cvss3Vector: p.cvss3 === null ? null : 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    cves: p.cves,
    description: PARAGRAPH,
    solution: `Upgrade to version ${2 + (i % 9)}.0 or later.`,
    evidence: `Installed version : ${1 + (h % 9)}.${i}.${h % 100}\nFixed version : ${2 + (i % 9)}.0\nPath : /usr/lib/x86_64-linux-gnu/lib${i}.so`,
    service: i % 3 === 0 ? 'www' : i % 3 === 1 ? 'ssh' : 'general',
  });
}

// ---- the clock during the build -------------------------------------------

const RealDate = Date;
let clockOffset = 0;
/** Date running at clockOffset ms from the real clock (only `new Date()` and Date.now()). */
class ShiftedDate extends RealDate {
  constructor(...args: unknown[]) {
    if (args.length === 0) super(RealDate.now() + clockOffset);
    else super(...(args as [string | number]));
  }
  static override now(): number {
    return RealDate.now() + clockOffset;
  }
}
function setClock(at: number | null): void {
  if (at === null) {
    clockOffset = 0;
    globalThis.Date = RealDate;
  } else {
    clockOffset = at - RealDate.now();
    globalThis.Date = ShiftedDate as DateConstructor;
  }
}

// ---- build ------------------------------------------------------------------

interface Env {
  writerDb: Db;
  readerDb: Db;
  ciphers: FindingCiphers;
  lock: WriteLock;
  close(): void;
}

function openEnv(dir: string): Env {
  const file = join(dir, 'findings.db');
  const keyring = join(dir, 'keyring.json');
  const adminPub = join(dir, 'admin.pub.pem');
  if (!existsSync(keyring)) {
    const admin = generateKeyPairSync('ed25519');
    createKeyring(keyring, admin.privateKey);
    writeFileSync(adminPub, admin.publicKey.export({ type: 'spki', format: 'pem' }));
  }
  const writerDb = openFindingsDb(file);
  const readerDb = openFindingsDbReadOnly(file);
  const provider = createLocalKeyProvider({
    file: keyring,
    adminPublicKey: createPublicKey(readFileSync(adminPub)),
    reloadIntervalMs: 60_000,
  });
  const ciphers = createFindingCiphers(
    createDataKeys(provider, createSqliteDataKeyStore(writerDb, undefined, readerDb), {
      maxAgeMs: 3_600_000,
    }),
  );
  return {
    writerDb,
    readerDb,
    ciphers,
    lock: new WriteLock(),
    close() {
      provider.close();
      readerDb.close();
      writerDb.close();
    },
  };
}

async function importFeeds(env: Env, now: number): Promise<void> {
  const r = rng(11);
  const date = new RealDate(now).toISOString().slice(0, 10);
  const source = { version: `bench-${date}`, date, sha256: () => '0'.repeat(64) };
  const kev: KevEntry[] = [];
  const epss: EpssScore[] = [];
  for (let i = 0; i < CVE_POOL; i++) {
    // ~6 % of the CVEs in KEV, more among the popular (low index) ones.
    if (r() < (i < CVE_POOL / 10 ? 0.2 : 0.045)) {
      const added = new RealDate(now - Math.floor(r() * 900) * DAY);
      kev.push({
        cve: cveName(i),
        dateAdded: added.toISOString().slice(0, 10),
        dueDate: new RealDate(added.getTime() + 21 * DAY).toISOString().slice(0, 10),
        ransomware: r() < 0.2,
        vendorProject: 'Vendor',
        product: 'Product',
        vulnerabilityName: `Vendor Product vulnerability ${i}`,
      });
    }
    const e = Math.round(r() ** 6 * 1e5) / 1e5;
    epss.push({ cve: cveName(i), epss: e, percentile: 0 });
  }
  const order = [...epss].sort((a, b) => a.epss - b.epss);
  order.forEach((x, i) => (x.percentile = Math.round((i / order.length) * 1e5) / 1e5));
  const feeds = createSqliteFeedStore(env.writerDb);
  await feeds.importKev(kev, source);
  await feeds.importEpss(epss, source);
}

async function build(dir: string): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const env = openEnv(dir);
  const now = RealDate.now();
  const writer = createSqliteFindingsWriter(env.writerDb, { ciphers: env.ciphers, lock: env.lock });
  const pool = plugins();
  try {
    await importFeeds(env, now);
    const hosts = Math.ceil(N / FINDINGS_PER_HOST);
    const start = now - 365 * DAY;
    const counts = { new: 0, updated: 0, unchanged: 0, fixed: 0, reopened: 0 };
    const hostsOf = (k: number) => [
      Math.floor((k * hosts) / SCANS),
      Math.floor(((k + 1) * hosts) / SCANS),
    ];
    let made = 0;
    for (let k = 0; k < SCANS; k++) {
      setClock(start + Math.floor((k * 360 * DAY) / SCANS));
      const imp = await writer.beginScanImport({
        scanId: randomUUID(),
        org: ORG,
        format: 'nessus',
        principal: 'bench',
        startedAt: new Date().toISOString(),
      });
      const findings: ScannedFinding[] = [];
      const assets = new Map<string, { scanner: string; asset: string; category: string }>();
      const flush = async () => {
        if (findings.length === 0) return;
        await imp.stage(findings.splice(0), [...assets.values()]);
        assets.clear();
      };
      let received = 0;
      const add = async (f: ScannedFinding) => {
        findings.push(f);
        assets.set(f.asset, { scanner: f.scanner, asset: f.asset, category: '' });
        received++;
        if (findings.length >= BATCH) await flush();
      };
      // Rescan: 10 % of the hosts of scan k-6, 70 % of their findings.
      if (k >= 6) {
        const [a, b] = hostsOf(k - 6) as [number, number];
        for (let h = a; h < a + Math.ceil((b - a) / 10); h++) {
          for (let i = 0; i < FINDINGS_PER_HOST; i++)
            if (i % 10 >= 3) await add(finding(pool, h, i));
        }
      }
      const [a, b] = hostsOf(k) as [number, number];
      for (let h = a; h < b; h++) {
        for (let i = 0; i < FINDINGS_PER_HOST && made < N; i++, made++)
          await add(finding(pool, h, i));
      }
      await flush();
      const c = await imp.commit(received);
      for (const key of Object.keys(counts) as (keyof typeof counts)[]) counts[key] += c[key];
      if (k % 10 === 9) {
        process.stderr.write(
          `  scan ${k + 1}/${SCANS}: ${made} findings, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`,
        );
      }
    }
    setClock(null);
    const tImport = performance.now();

    // People's analysis, by ids, at most 10,000 per change.
    const triage = createSqliteTriageStore(env.writerDb, { ciphers: env.ciphers, lock: env.lock });
    const ids = (mod: number, lo: number, hi: number) =>
      env.writerDb
        .prepare<[string, number, number, number], string>(
          `SELECT id FROM findings WHERE org = ? AND (seq * 7919) % ? BETWEEN ? AND ?`,
        )
        .pluck()
        .all(ORG, mod, lo, hi);
    const iso = (t: number) => new RealDate(t).toISOString();
    const changes: [string, string[], TriageChange][] = [
      [
        'false_positive',
        ids(1000, 0, 19),
        {
          state: 'false_positive',
          justification: null,
          response: [],
          comment: 'Not exploitable here: the service is bound to localhost.',
          expiresAt: null,
        },
      ],
      [
        'not_affected',
        ids(1000, 20, 24),
        {
          state: 'not_affected',
          justification: 'code_not_reachable',
          response: [],
          comment: '',
          expiresAt: null,
        },
      ],
      [
        'risk_accepted (expired)',
        ids(1000, 25, 29),
        {
          state: 'risk_accepted',
          justification: null,
          response: ['will_not_fix'],
          comment: 'Accepted by the CISO until the migration.',
          expiresAt: iso(now - 30 * DAY),
        },
      ],
      [
        'risk_accepted (in force)',
        ids(1000, 30, 34),
        {
          state: 'risk_accepted',
          justification: null,
          response: ['will_not_fix'],
          comment: 'Accepted by the CISO until the migration.',
          expiresAt: iso(now + 120 * DAY),
        },
      ],
      [
        'in_triage',
        ids(1000, 35, 44),
        { state: 'in_triage', justification: null, response: [], comment: '', expiresAt: null },
      ],
    ];
    const triaged: Record<string, number> = {};
    for (const [name, list, change] of changes) {
      for (let i = 0; i < list.length; i += 10_000) {
        await triage.bulkSetAnalysis(ORG, { ids: list.slice(i, i + 10_000) }, change, {
          by: 'ou:security-team',
          at: iso(now - 10 * DAY),
          max: 10_000,
        });
      }
      triaged[name] = list.length;
    }
    // No ANALYZE: the server never runs it, so the planner here works
    // without statistics as it does there.
    env.writerDb.pragma('wal_checkpoint(TRUNCATE)');
    const t1 = performance.now();
    return {
      findings: made,
      counts,
      triaged,
      importSeconds: (tImport - t0) / 1000,
      buildSeconds: (t1 - t0) / 1000,
      builtAt: iso(now),
    };
  } finally {
    setClock(null);
    await writer.close();
    env.close();
  }
}

// ---- measure ----------------------------------------------------------------

interface Row {
  name: string;
  target: number | null;
  p50: number;
  p99: number;
  max: number;
  n: number;
  items: number;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;

async function measure(
  name: string,
  target: number | null,
  iterations: number,
  call: (i: number) => Promise<number> | number,
): Promise<Row> {
  for (let i = 0; i < Math.min(WARMUP, iterations); i++) await call(i);
  const times: number[] = [];
  let items = 0;
  for (let i = 0; i < iterations; i++) {
    const t = process.hrtime.bigint();
    items += await call(i);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((x, y) => x - y);
  const row = {
    name,
    target,
    p50: pct(times, 50),
    p99: pct(times, 99),
    max: times.at(-1) as number,
    n: iterations,
    items: Math.round(items / iterations),
  };
  process.stderr.write(`  ${name}: p50 ${row.p50.toFixed(2)} p99 ${row.p99.toFixed(2)} ms\n`);
  return row;
}

async function run(env: Env, meta: Record<string, unknown>): Promise<void> {
  const reader: FindingsReader = createSqliteFindingsReader(env.readerDb, env.ciphers);
  const db = env.readerDb;
  const now = new Date().toISOString();
  const load0 = loadavg();

  // Cursors for deep pages: rows picked evenly over each query's result (as
  // a client paging on would hold them), skipping the first tenth.
  const spread = <T>(rows: T[], n = 200): T[] =>
    rows.length === 0
      ? []
      : Array.from(
          { length: n },
          (_, i) => rows[Math.floor(rows.length * (0.1 + (0.9 * i) / n))] as T,
        );
  const seqs = db
    .prepare<[string], number>(`SELECT seq FROM findings WHERE org = ? ORDER BY seq`)
    .pluck()
    .all(ORG);
  const plainCursors = spread(seqs);
  const prioCursors = spread(
    db
      .prepare<[string, string], { seq: number; prio: number }>(
        `SELECT seq, prio FROM findings WHERE org = ? AND status IN ('open', 'reopened')
           AND (suppressed_until IS NULL OR suppressed_until <= ?) ORDER BY prio DESC, seq`,
      )
      .all(ORG, now),
  ).map((r): FindingsAfter => ({ seq: r.seq, key: String(r.prio) }));
  const overdueCursors = spread(
    db
      .prepare<[string, string, string], number>(
        `SELECT seq FROM findings WHERE org = ? AND severity = 'critical'
           AND status IN ('open', 'reopened') AND (suppressed_until IS NULL OR suppressed_until <= ?)
           AND due_at < ? ORDER BY seq`,
      )
      .pluck()
      .all(ORG, now, now),
  );

  const bare = db.prepare<[string, number], unknown>(
    `SELECT seq, id, org, vuln_id, asset, scanner, plugin_id, port, protocol, title, severity,
            severity_raw, cvss3_score, cvss3_vector, cvss2_score, cvss2_vector, cves, service,
            category, fingerprint, location, analysis, status, first_seen, last_seen, fixed_at,
            due_date, priority, triage, rev, suppressed_until, due_at, first_scan_id, prio
       FROM findings WHERE org = ? AND seq > ? ORDER BY seq LIMIT 101`,
  );
  const page = async (filter: FindingFilter, after: FindingsAfter) =>
    (await reader.queryFindings(ORG, { ...filter, now }, after, LIMIT, 'list')).items.length;
  const at = <T>(list: T[], i: number) => list[i % list.length] as T;

  const rows: Row[] = [];
  const I = ITERATIONS;
  rows.push(
    await measure('baseline: bare SQL page, first', null, I, () => bare.all(ORG, 0).length),
  );
  rows.push(
    await measure(
      'baseline: bare SQL page, deep',
      null,
      I,
      (i) => bare.all(ORG, at(plainCursors, i)).length,
    ),
  );
  rows.push(await measure('(a) list, first page', 20, I, () => page({}, 0)));
  rows.push(await measure('(a) list, deep pages', 20, I, (i) => page({}, at(plainCursors, i))));
  const b: FindingFilter = { active: true, sort: 'priority' };
  rows.push(await measure('(b) active, sort=priority, first', 20, I, () => page(b, 0)));
  rows.push(
    await measure('(b) active, sort=priority, deep', 20, I, (i) => page(b, at(prioCursors, i))),
  );
  const c: FindingFilter = { overdue: true, severity: ['critical'] };
  rows.push(await measure('(c) overdue, critical, first', 20, I, () => page(c, 0)));
  rows.push(
    await measure('(c) overdue, critical, deep', 20, I, (i) => page(c, at(overdueCursors, i))),
  );
  rows.push(await measure(`(d) q=${Q_COMMON}`, null, I, () => page({ q: Q_COMMON }, 0)));
  // Every summary query reads the whole org: fewer iterations when slow.
  const once = performance.now();
  await reader.summary(ORG, 10, now);
  const perCall = performance.now() - once;
  const rareIterations = Math.max(20, Math.min(I, Math.floor(20_000 / Math.max(perCall, 1))));
  rows.push(
    await measure(`(d) q=${Q_RARE} (rare)`, null, rareIterations, () => page({ q: Q_RARE }, 0)),
  );
  const sumIterations = Math.max(20, Math.min(I, Math.floor(30_000 / Math.max(perCall, 1))));
  rows.push(
    await measure('(e) summary, top 10', 100, sumIterations, async () => {
      const s = await reader.summary(ORG, 10, now);
      return s.bySeverityStatus.length;
    }),
  );
  const load1 = loadavg();

  const pad = (s: string, n: number) => s.padEnd(n);
  const f = (x: number) => x.toFixed(2);
  const lines = [
    `bench:query — ${(meta.findings as number).toLocaleString('en-US')} findings in one org on SQLite, page of ${LIMIT} (fields list), read-only connection; ${cpus().length} CPUs; load avg before ${load0.map((x) => x.toFixed(2)).join(' ')}, after ${load1.map((x) => x.toFixed(2)).join(' ')}`,
    '',
    `${pad('query', 38)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('max ms', 9)}${pad('iters', 7)}${pad('items', 7)}${pad('target', 12)}result`,
    ...rows.map(
      (r) =>
        `${pad(r.name, 38)}${pad(f(r.p50), 9)}${pad(f(r.p99), 9)}${pad(f(r.max), 9)}${pad(String(r.n), 7)}${pad(String(r.items), 7)}${pad(r.target === null ? '-' : `p99 < ${r.target}`, 12)}${r.target === null ? '-' : r.p99 < r.target ? 'PASS' : 'FAIL'}`,
    ),
    '',
    `database: ${JSON.stringify(meta)}`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  writeFileSync(join(OUT, 'query.json'), JSON.stringify({ meta, rows, load0, load1 }, null, 2));
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const dir = join(OUT, `query-${N}-v${BUILD_VERSION}`);
  const metaFile = join(dir, 'meta.json');
  if (!existsSync(metaFile)) {
    // A half-built directory (an interrupted build) is started again.
    const tmp = `${dir}.building`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    process.stderr.write(`building ${N} findings in ${tmp} …\n`);
    const meta = await build(tmp);
    writeFileSync(join(tmp, 'meta.json'), JSON.stringify(meta));
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } else {
    process.stderr.write(`reusing ${dir} (delete it to build again)\n`);
  }
  const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as Record<string, unknown>;
  const env = openEnv(dir);
  try {
    await run(env, meta);
  } finally {
    env.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:query failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
