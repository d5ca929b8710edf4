// npm run bench:lambda — the Lambda bundles, measured here. Each entry in
// src/lambda is bundled with esbuild as infra/lib/functions.ts deploys it
// (platform node, target node20, minified, mainFields module,main, and
// @aws-sdk/* external: the Lambda runtime provides the AWS SDK v3). That
// deployed bundle is what the size target judges. Its cold time is honest
// about the SDK: a fresh `node` process requires the bundle and the SDK
// clients it needs (resolved from node_modules, as the runtime resolves its
// own copy), module evaluation and the contract's validators included; median
// of RUNS, next to an empty module (node's own start-up is not the bundle's
// cost). For comparison, the size with the SDK bundled in as well.
// Prints a table and writes bench/out/lambda.json.

import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');
const OUT = join(ROOT, 'bench', 'out', 'lambda');
const ENTRIES = ['authorizer', 'ingest', 'query'] as const;
const RUNS = 15;
const SIZE_TARGET = 600 * 1024;
const REQUIRE_TARGET_MS = 150;

function requireMs(file: string): number {
  const code = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`require ${file} failed: ${r.stderr}`);
  return Number(r.stdout);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const empty = join(OUT, 'empty.js');
  writeFileSync(empty, '');
  const baseline = Array.from({ length: RUNS }, () => requireMs(empty));
  const rows = [];
  for (const name of ENTRIES) {
    // For comparison only: everything inside, the AWS SDK clients included.
    const allIn = join(OUT, `${name}.all-in.js`);
    await build({
      entryPoints: [join(ROOT, 'src', 'lambda', `${name}.ts`)],
      outfile: allIn,
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      // ESM builds first: the AWS SDK's ES modules tree-shake, its CJS builds do not.
      mainFields: ['module', 'main'],
      logLevel: 'error',
      legalComments: 'none',
    });
    const bytesAllIn = statSync(allIn).size;
    // The deployed bundle (infra/lib/functions.ts: externalModules @aws-sdk/*).
    const outfile = join(OUT, `${name}.js`);
    await build({
      entryPoints: [join(ROOT, 'src', 'lambda', `${name}.ts`)],
      outfile,
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      mainFields: ['module', 'main'],
      external: ['@aws-sdk/*'],
      logLevel: 'error',
      legalComments: 'none',
    });
    const bytes = statSync(outfile).size;
    const times = Array.from({ length: RUNS }, () => requireMs(outfile));
    rows.push({
      entry: `src/lambda/${name}.ts`,
      bytes,
      bytesAllIn,
      requireMsMedian: median(times),
      requireMsMin: Math.min(...times),
      requireMsMax: Math.max(...times),
      sizeOk: bytes < SIZE_TARGET,
      requireOk: median(times) < REQUIRE_TARGET_MS,
    });
  }
  const base = median(baseline);
  console.log(
    `\nLambda bundles as deployed (esbuild, minified, node20, @aws-sdk/* from the runtime), ${RUNS} cold requires each (bundle + the SDK clients it loads)`,
  );
  console.log(
    '|bundle|minified size (deployed)|cold require incl. SDK, median (min–max)|targets (<600 KB, <150 ms)|size with the SDK bundled too (for comparison)|',
  );
  console.log('|---|---|---|---|---|');
  console.log(`|empty module (baseline)|0 KB|${base.toFixed(1)} ms|—|—|`);
  for (const r of rows) {
    console.log(
      `|${r.entry}|${(r.bytes / 1024).toFixed(0)} KB|${r.requireMsMedian.toFixed(1)} ms (${r.requireMsMin.toFixed(1)}–${r.requireMsMax.toFixed(1)})|${r.sizeOk && r.requireOk ? 'met' : 'MISSED'}|${(r.bytesAllIn / 1024).toFixed(0)} KB|`,
    );
  }
  writeFileSync(
    join(ROOT, 'bench', 'out', 'lambda.json'),
    JSON.stringify({ node: process.version, runs: RUNS, baselineMs: base, rows }, null, 2),
  );
  if (rows.some((r) => !r.sizeOk || !r.requireOk)) process.exitCode = 1;
}

await main();
