// The README's curl block and the curl lines `init` prints must work exactly
// as printed: this test runs them verbatim with bash and curl against a real
// server started from a directory holding the default ./.vulnvault, changing
// only the port (8443 → a free port).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IDEMPOTENCY_KEEP_MS as DYNAMODB_KEEP_MS } from '../../src/adapters/dynamodb/idempotency-store.js';
import { IDEMPOTENCY_KEEP_MS as SQLITE_KEEP_MS } from '../../src/adapters/sqlite/idempotency-store.js';
import { runCli, startCli, type Served } from '../helpers/cli.js';

const ROOT = join(import.meta.dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

function bash(script: string, cwd: string) {
  return spawnSync('bash', ['-c', script], { cwd, encoding: 'utf8', timeout: 60_000 });
}

interface Instance {
  work: string;
  served: Served;
  initOutput: string;
}

/** A fresh directory with the default ./.vulnvault and a server on a free port. */
async function instance(): Promise<Instance> {
  const work = mkdtempSync(join(tmpdir(), 'vulnvault-readme-'));
  const init = runCli(['init'], { cwd: work });
  assert.equal(init.status, 0, init.stderr);
  const served = await startCli(['serve', '--port', '0'], { cwd: work });
  return { work, served, initOutput: init.stdout };
}

async function stop(i: Instance): Promise<void> {
  i.served.child.kill('SIGTERM');
  assert.equal(await i.served.exited, 0);
  rmSync(i.work, { recursive: true, force: true });
}

describe('documented commands', () => {
  let a: Instance;
  let b: Instance;
  before(async () => {
    [a, b] = await Promise.all([instance(), instance()]);
  });
  after(async () => {
    await Promise.all([stop(a), stop(b)]);
  });

  it("runs the README's curl block as printed", () => {
    const block = /## Trying every route with curl[\s\S]*?```sh\n([\s\S]*?)```/.exec(README)?.[1];
    assert.ok(block, 'curl block not found in README');
    const { served, work } = a;
    const script = block.replaceAll('127.0.0.1:8443', `127.0.0.1:${served.port}`);
    // Run each command and print a marker with its exit code.
    const r = bash(
      script.replace(/\n(?=curl |NEXT=)/g, '\necho "<<$?>>"\n') + '\necho "<<$?>>"\n',
      work,
    );
    const out = r.stdout;
    const parts = out.split(/<<\d+>>\n?/);
    const codes = [...out.matchAll(/<<(\d+)>>/g)].map((m) => Number(m[1]));
    assert.match(parts[0] ?? '', /^$/); // the variable assignments print nothing
    assert.equal(parts[1], '{"stored":1}');
    assert.equal(parts[2], '{"stored":2}');
    assert.match(parts[3] ?? '', /^\{"org":"org1","items":\[\{"VulnID":"VULN-0001"/);
    assert.equal(parts[4], '{"stored":1}');
    assert.equal(parts[5], ''); // NEXT=…
    assert.match(
      parts[6] ?? '',
      /^\{"org":"org1","items":\[\{"VulnID":"VULN-0004".*"next":null\}$/,
    );
    assert.match(parts[7] ?? '', /"code":"forbidden"/);
    assert.match(parts[8] ?? '', /"code":"forbidden".*org5/);
    assert.equal(parts[9], '{"status":"ok"}');
    assert.notEqual(codes.at(-1), 0, 'the last command (no certificate) must fail');
    assert.deepEqual(
      codes.slice(0, -1).filter((c) => c !== 0),
      [],
    );
  });

  it('runs the curl commands that init prints, as printed', () => {
    const { served, work, initOutput } = b;
    const lines = initOutput
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('curl '))
      .map((l) =>
        l.replace(/\s+#.*$/, '').replaceAll('127.0.0.1:8443', `127.0.0.1:${served.port}`),
      );
    assert.equal(lines.length, 3);
    const outs = lines.map((l) => bash(`${l} -sS`, work));
    assert.equal(outs[0]?.stdout, '{"stored":1}');
    assert.match(outs[1]?.stdout ?? '', /"VulnID":"VULN-0001"/);
    assert.match(outs[2]?.stdout ?? '', /"code":"forbidden"/);
  });
});

describe('README facts', () => {
  it('states the idempotency retention the stores use, as the contract does', () => {
    const hours = (re: RegExp, text: string, where: string) => {
      const m = re.exec(text);
      assert.ok(m, `${where}: retention not found`);
      return Number(m[1]) * 3_600_000;
    };
    assert.equal(SQLITE_KEEP_MS, DYNAMODB_KEEP_MS);
    const paragraph = /\*\*Idempotency-Key\*\*[\s\S]*?\n\n/.exec(README)?.[0] ?? '';
    assert.equal(hours(/kept (\d+) hours/, paragraph, 'Idempotency-Key paragraph'), SQLITE_KEEP_MS);
    assert.equal(
      hours(/\|idempotency\|.*`expiresAt` \(TTL\) after (\d+) h\|/, README, 'DynamoDB table'),
      DYNAMODB_KEEP_MS,
    );
    const contract = readFileSync(join(ROOT, 'openapi', 'vulnvault.yaml'), 'utf8');
    const header = /IdempotencyKey:[\s\S]*?schema:/.exec(contract)?.[0] ?? '';
    assert.equal(hours(/kept\s+(\d+) h\b/, header, 'contract'), SQLITE_KEEP_MS);
    assert.doesNotMatch(header, /at least/);
  });

  it('lists each path of the layout once, and each exists', () => {
    const block = /## How it is built\n+```\n([\s\S]*?)```/.exec(README)?.[1];
    assert.ok(block, 'layout block not found');
    const paths = block
      .split('\n')
      .map((l) => /^(\S.*?)\s{2,}/.exec(l)?.[1])
      .filter((p): p is string => p !== undefined)
      .flatMap((p) => p.split(', '));
    assert.ok(paths.length > 10, paths.join(' '));
    assert.deepEqual(
      paths.filter((p, i) => paths.indexOf(p) !== i),
      [],
      'listed twice',
    );
    for (const p of paths) assert.ok(existsSync(join(ROOT, p)), `${p} does not exist`);
  });

  it('points to no document that is not in the repository, and calls no entry a placeholder', () => {
    for (const m of README.matchAll(/`?([\w./-]+\.md)\b`?/g)) {
      const file = m[1] as string;
      if (file === 'README.md') continue;
      assert.ok(
        existsSync(join(ROOT, file)),
        `README refers to ${file}, which is not in the repository`,
      );
    }
    assert.doesNotMatch(README, /placeholder/i);
  });
});
