// Every command and subcommand of the real CLI answers --help or -h with
// its usage, its options and an example, and exits 0. The list of commands is
// read from the CLI itself (the top-level help, and each group's "expected:"
// list of subcommands), so a command added without help fails here.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCliAsync, type CliResult } from '../helpers/cli.js';

function assertHelp(r: CliResult, command: string): void {
  assert.equal(r.status, 0, `${command}: ${r.stderr}`);
  assert.equal(r.stderr, '', command);
  assert.match(r.stdout, new RegExp(`^usage: vulnvault ${command}`, 'm'), command);
  assert.match(r.stdout, /^examples?:\n {2}vulnvault \S/m, `${command}: an example`);
}

/** Runs at most two at a time: the CI machine has two cores. */
async function inPairs<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += 2)
    out.push(...(await Promise.all(items.slice(i, i + 2).map(fn))));
  return out;
}

describe('vulnvault --help', () => {
  it('answers at the top level with the commands and examples', async () => {
    for (const flag of ['--help', '-h', 'help']) {
      const r = await runCliAsync([flag]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^usage: vulnvault COMMAND/m);
      assert.match(r.stdout, /^examples:\n {2}vulnvault \S/m);
    }
  });

  it('answers for every command and subcommand (--help or -h), exit 0', async () => {
    const top = (await runCliAsync(['--help'])).stdout;
    const commands = [...top.matchAll(/^ {2}([a-z][a-z-]*) {2,}/gm)].map((m) => m[1] as string);
    assert.deepEqual(commands, [
      'init',
      'serve',
      'start',
      'pki',
      'cert',
      'policy',
      'audit',
      'keys',
      'backup',
      'restore',
      'upload',
      'feeds',
      'sla',
    ]);
    // A group names its subcommands when given one it does not know.
    const groups = await inPairs(commands, async (c) => {
      const r = await runCliAsync([c, 'no-such-subcommand', '--dir', '/nonexistent']);
      const subs = /unknown subcommand 'no-such-subcommand' \(expected: ([^)]*)\)/.exec(r.stderr);
      return { c, subs: subs?.[1]?.split(', ') ?? [] };
    });
    const all = groups.flatMap(({ c, subs }) => [c, ...subs.map((s) => `${c} ${s}`)]);
    assert.ok(all.includes('pki issue') && all.includes('keys schedule-deletion'), all.join(', '));
    assert.ok(all.length >= 25, all.join(', '));

    // Each once, --help and -h in turn (a process per run costs about a second).
    const runs = all.map((command, i) => ({
      command,
      args: [...command.split(' '), i % 2 === 0 ? '--help' : '-h'],
    }));
    const results = await inPairs(runs, async (run) => ({
      ...run,
      r: await runCliAsync(run.args),
    }));
    for (const { command, r } of results) assertHelp(r, command);
    // A subcommand's help lists its options.
    const upload = results.find((x) => x.command === 'upload')?.r.stdout ?? '';
    for (const o of ['--org', '--type', '--dir', '--url', '--cert', '--ca', '--idempotency-key']) {
      assert.match(upload, new RegExp(`^ {2}${o}`, 'm'), o);
    }
  });

  it('answers --help among other arguments, not after --, and points to it on a usage error', async () => {
    const [long, short] = await Promise.all([
      runCliAsync(['upload', 'scan.nessus', '--org', 'org1', '--help']),
      runCliAsync(['upload', '-h', 'scan.nessus']),
    ]);
    assertHelp(long, 'upload');
    assert.equal(short.stdout, long.stdout, '-h and --help print the same');
    const r = await runCliAsync(['upload', '--org', 'org1', '--colour', 'x']);
    assert.equal(r.status, 2);
    assert.equal(
      r.stderr,
      "vulnvault: upload: Unknown option '--colour' (see 'vulnvault upload --help')\n",
    );
    const after = await runCliAsync(['upload', '--org', 'org1', '--', '--help']);
    assert.equal(after.status, 1);
    assert.match(after.stderr, /^vulnvault: upload: no such file --help\n$/);
  });
});
