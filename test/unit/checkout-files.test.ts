// The checkout's own config files: what git ignores (data directories hold
// private keys) and how npm and better-sqlite3's installer are configured.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');

describe('.gitignore', () => {
  it('ignores the data directory and the key-admin directory that npm start writes', () => {
    // A repository of its own holding only our .gitignore: the checkout may
    // not be a git repository, and no global or system excludes may help.
    const repo = mkdtempSync(join(tmpdir(), 'vulnvault-gitignore-'));
    try {
      const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };
      assert.equal(spawnSync('git', ['init', '-q'], { cwd: repo, env }).status, 0);
      copyFileSync(join(ROOT, '.gitignore'), join(repo, '.gitignore'));
      const ignored = (path: string) =>
        spawnSync('git', ['check-ignore', '-q', '--no-index', path], { cwd: repo, env }).status;
      for (const path of [
        '.vulnvault/x',
        '.vulnvault/pki/ca.key',
        '.vulnvault.key-admin/x',
        '.vulnvault.key-admin/key-admin.pem',
        'other-dir.key-admin/key-admin.pem',
      ]) {
        assert.equal(ignored(path), 0, `${path} must be ignored`);
      }
      assert.equal(ignored('src/cli/main.ts'), 1, 'sources are not ignored');
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
