// Where a file stands with git: init writes private keys, and one that lands
// in a work tree without being ignored is one `git add -A` away from a commit.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The nearest directory at or above `path` that holds a `.git` entry (a
 * directory, or a file in a linked worktree or submodule); undefined when
 * there is none. Found without running git.
 */
export function gitWorkTreeOf(path: string): string | undefined {
  let dir = resolve(path);
  for (;;) {
    if (existsSync(join(dir, '.git'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/**
 * Whether git ignores `file` (a tracked file is not ignored): true or false
 * as `git check-ignore` answers, undefined when git cannot tell (not
 * installed, not a repository). Only this needs git: .gitignore semantics
 * (negations, nested files, info/exclude, core.excludesFile) are git's own.
 */
export function ignoredByGit(workTree: string, file: string): boolean | undefined {
  try {
    // core.fsmonitor off: a repository's config must not run a command of its choosing.
    execFileSync(
      'git',
      ['-C', workTree, '-c', 'core.fsmonitor=false', 'check-ignore', '-q', '--', file],
      { stdio: 'ignore', timeout: 10_000 },
    );
    return true;
  } catch (err) {
    return (err as { status?: number | null }).status === 1 ? false : undefined;
  }
}
