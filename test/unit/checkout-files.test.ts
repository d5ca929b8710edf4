// The checkout's own config files: what git ignores (data directories hold
// private keys) and how npm and better-sqlite3's installer are configured.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
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

/** The environment without npm's or prebuild-install's own settings (npm test sets npm_config_*). */
function cleanEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { HOME: home };
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(npm_|prebuild-install_|home$)/i.test(k)) env[k] = v;
  }
  return env;
}

describe('npm and the better-sqlite3 install', () => {
  it('.npmrc holds only keys npm knows (no build-from-source)', () => {
    const keys = readFileSync(join(ROOT, '.npmrc'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !/^[#;]/.test(l))
      .map((l) => l.split('=')[0]?.trim());
    assert.ok(!keys.includes('build-from-source'), 'build-from-source is not an npm config key');
    const home = mkdtempSync(join(tmpdir(), 'vulnvault-npm-home-'));
    try {
      // npm reads the project's .npmrc for any command and names every key it does not know.
      const r = spawnSync('npm', ['config', 'get', 'engine-strict'], {
        cwd: ROOT,
        env: cleanEnv(home),
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /Unknown project config/);
      assert.equal(r.stdout.trim(), 'true', 'the project .npmrc is read');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('prebuild-install finds .prebuild-installrc and builds better-sqlite3 from source, no download', () => {
    // Exactly what better-sqlite3's install script does first: prebuild-install
    // reads its settings (rc files found from its working directory upward),
    // and exits without downloading when buildFromSource is set.
    const pkgDir = join(ROOT, 'node_modules', 'better-sqlite3');
    const rcModule = createRequire(join(pkgDir, 'package.json')).resolve('prebuild-install/rc');
    const home = mkdtempSync(join(tmpdir(), 'vulnvault-npm-home-'));
    try {
      const r = spawnSync(
        process.execPath,
        [
          '-e',
          `const rc = require(${JSON.stringify(rcModule)})(require('./package.json'));` +
            'console.log(JSON.stringify({ buildFromSource: rc.buildFromSource, configs: rc.configs }))',
        ],
        { cwd: pkgDir, env: cleanEnv(home), encoding: 'utf8' },
      );
      assert.equal(r.status, 0, r.stderr);
      const rc = JSON.parse(r.stdout) as { buildFromSource: unknown; configs?: string[] };
      assert.equal(rc.buildFromSource, true);
      assert.ok(rc.configs?.includes(join(ROOT, '.prebuild-installrc')), 'read from the checkout');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
