// Runs the real vulnvault CLI (from source, through the tsx loader) as a child
// process, the way a user or a script does.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after } from 'node:test';

// Every server a test file starts is killed when the file's tests are over,
// so a failed assertion fails the file instead of leaving a server that
// keeps the test process (and CI) waiting.
const live = new Set<ChildProcess>();
after(() => {
  for (const child of live) child.kill('SIGKILL');
});

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
// Resolved here, not in the child's working directory (a temp dir).
const NODE_ARGS = ['--import', import.meta.resolve('tsx'), MAIN];

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): CliResult {
  const r = spawnSync(process.execPath, [...NODE_ARGS, ...args], {
    encoding: 'utf8',
    cwd: opts.cwd,
    env: opts.env ? { ...process.env, ...opts.env } : undefined,
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface Served {
  child: ChildProcess;
  url: string;
  port: number;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/** Starts `vulnvault <command> ...` and resolves once it prints its URL. */
export function startCli(args: string[], opts: { cwd?: string } = {}): Promise<Served> {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], {
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  live.add(child);
  void exited.then(() => live.delete(child));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start: ${out} ${err}`));
    }, 30_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (https:\/\/\S+:(\d+))/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          child,
          url: m[1] as string,
          port: Number(m[2]),
          stdout: () => out,
          stderr: () => err,
          exited,
        });
      }
    });
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${out} ${err}`));
    });
  });
}

export function curl(
  args: string[],
  cwd: string,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('curl', ['-sS', ...args], { encoding: 'utf8', cwd, timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Like runCli, without blocking this process's event loop (requests keep flowing). */
export function runCliAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...NODE_ARGS, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Starts a long-running `vulnvault …` (e.g. `cert watch`); killed with the file's other children. */
export function startProcess(
  args: string[],
): Promise<{ child: ChildProcess; stdout(): string; stderr(): string }> {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.on('exit', () => live.delete(child));
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return Promise.resolve({ child, stdout: () => out, stderr: () => err });
}
