// Runs the test files with Node's own test runner through the tsx loader.
// Node 20's runner has no glob support, so the files are listed here.
// Usage: node scripts/run-tests.mjs [unit|contract|conformance|integration|infra]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const which = process.argv[2];
const roots = which
  ? [join('test', which)]
  : [
      join('test', 'unit'),
      join('test', 'contract'),
      join('test', 'conformance'),
      join('test', 'integration'),
      join('test', 'infra'),
    ];

function find(dir) {
  let out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const files = roots.flatMap(find);
if (files.length === 0) {
  console.error('run-tests: no test files found');
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(r.status ?? 1);
