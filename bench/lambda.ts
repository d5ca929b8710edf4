// npm run bench:lambda — the Lambda bundles, measured here. Each entry in
// src/lambda is bundled with esbuild as the CDK's NodejsFunction would
// (platform node, target node20, CommonJS, minified, mainFields module,main)
// but with EVERYTHING
// inside, the AWS SDK v3 clients included (NodejsFunction leaves @aws-sdk/*
// out by default; these numbers are the honest upper bound). For each bundle:
// its size, and the time a fresh `node` process needs to require it (cold:
// module evaluation, the contract's validators compiled), median of RUNS,
// next to the same measurement for an empty module (the baseline: node's own
// start-up of `require` is not the bundle's cost).
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
    const outfile = join(OUT, `${name}.js`);
    await build({
      entryPoints: [join(ROOT, 'src', 'lambda', `${name}.ts`)],
      outfile,
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
    const bytes = statSync(outfile).size;
    // For comparison only: the size when the runtime provides the AWS SDK
    // (NodejsFunction's default externals). Not what the targets judge.
    const extFile = join(OUT, `${name}.sdk-external.js`);
    await build({
      entryPoints: [join(ROOT, 'src', 'lambda', `${name}.ts`)],
      outfile: extFile,
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      mainFields: ['module', 'main'],
      external: ['@aws-sdk/*', '@smithy/*'],
      logLevel: 'error',
      legalComments: 'none',
    });
    const bytesSdkExternal = statSync(extFile).size;
    const times = Array.from({ length: RUNS }, () => requireMs(outfile));
    rows.push({
      entry: `src/lambda/${name}.ts`,
      bytes,
      bytesSdkExternal,
      requireMsMedian: median(times),
      requireMsMin: Math.min(...times),
      requireMsMax: Math.max(...times),
      sizeOk: bytes < SIZE_TARGET,
      requireOk: median(times) < REQUIRE_TARGET_MS,
    });
  }
  const base = median(baseline);
  console.log(
    `\nLambda bundles (esbuild, minified, node20, AWS SDK bundled), ${RUNS} cold requires each`,
  );
  console.log(
    '|bundle|minified size|cold require median (min–max)|targets (<600 KB, <150 ms)|size without the AWS SDK (for comparison)|',
  );
  console.log('|---|---|---|---|---|');
  console.log(`|empty module (baseline)|0 KB|${base.toFixed(1)} ms|—|—|`);
  for (const r of rows) {
    console.log(
      `|${r.entry}|${(r.bytes / 1024).toFixed(0)} KB|${r.requireMsMedian.toFixed(1)} ms (${r.requireMsMin.toFixed(1)}–${r.requireMsMax.toFixed(1)})|${r.sizeOk && r.requireOk ? 'met' : 'MISSED'}|${(r.bytesSdkExternal / 1024).toFixed(0)} KB|`,
    );
  }
  writeFileSync(
    join(ROOT, 'bench', 'out', 'lambda.json'),
    JSON.stringify({ node: process.version, runs: RUNS, baselineMs: base, rows }, null, 2),
  );
  if (rows.some((r) => !r.sizeOk || !r.requireOk)) process.exitCode = 1;
}

await main();
