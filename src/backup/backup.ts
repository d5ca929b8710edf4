// DP 1.3 backups: a consistent online snapshot of every SQLite store, taken
// with SQLite's backup API while the server keeps serving, packed with a
// manifest of SHA-256 sums into one .tar.gz. Keys, the PKI and the logs are
// never in it. Restore checks every sum and PRAGMA integrity_check before it
// replaces anything, and swaps each file in with a rename.

import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  copyFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import * as tar from 'tar';
import { resolvePath, type Config } from '../config/config.js';
import { BackupError } from './backup-error.js';

export const BACKUP_FORMAT = 'vulnvault-backup/1';

interface ManifestEntry {
  store: string;
  file: string;
  bytes: number;
  sha256: string;
  schemaVersion: number;
}

interface Manifest {
  format: string;
  createdAt: string;
  stores: ManifestEntry[];
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** The SQLite stores of a data directory, by config key. */
export function storesOf(config: Config): { store: string; path: string }[] {
  return Object.entries(config.storage).map(([store, rel]) => ({
    store,
    path: resolvePath(config, rel),
  }));
}

export async function createBackup(config: Config, out: string): Promise<Manifest> {
  const work = mkdtempSync(join(tmpdir(), 'vulnvault-backup-'));
  try {
    const stores: ManifestEntry[] = [];
    for (const { store, path } of storesOf(config)) {
      if (!existsSync(path)) continue;
      const db = new Database(path, { readonly: true, fileMustExist: true });
      const file = `${store}.db`;
      try {
        await db.backup(join(work, file));
      } finally {
        db.close();
      }
      const check = new Database(join(work, file), { readonly: true });
      const schemaVersion = check.pragma('user_version', { simple: true }) as number;
      check.close();
      stores.push({
        store,
        file,
        bytes: statSync(join(work, file)).size,
        sha256: sha256(join(work, file)),
        schemaVersion,
      });
    }
    const manifest: Manifest = {
      format: BACKUP_FORMAT,
      createdAt: new Date().toISOString(),
      stores,
    };
    writeFileSync(join(work, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    const tmpOut = `${out}.partial`;
    // The CLI runs with umask 077, so the archive is readable by its owner only.
    await tar.c({ gzip: true, file: tmpOut, cwd: work, portable: true }, [
      'manifest.json',
      ...stores.map((s) => s.file),
    ]);
    renameSync(tmpOut, out);
    return manifest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function readManifest(work: string): Manifest {
  let m: Manifest;
  try {
    m = JSON.parse(readFileSync(join(work, 'manifest.json'), 'utf8')) as Manifest;
  } catch {
    throw new BackupError('not a vulnvault backup: manifest.json missing or unreadable');
  }
  if (m.format !== BACKUP_FORMAT || !Array.isArray(m.stores)) {
    throw new BackupError(`not a vulnvault backup (format ${String(m.format)})`);
  }
  return m;
}

export interface RestoreOptions {
  force: boolean;
}

export async function restoreBackup(
  config: Config,
  file: string,
  opts: RestoreOptions,
): Promise<Manifest> {
  const known = new Map(storesOf(config).map((s) => [s.store, s.path]));
  const work = mkdtempSync(join(tmpdir(), 'vulnvault-restore-'));
  try {
    try {
      // Only plain files named like our entries are extracted: no links, no paths.
      await tar.x({
        file,
        cwd: work,
        strict: true,
        filter: (p, entry) =>
          /^(manifest\.json|[a-z]+\.db)$/.test(p) && (entry as { type?: string }).type === 'File',
      });
    } catch (err) {
      throw new BackupError(`cannot read backup ${file}: ${(err as Error).message}`);
    }
    const manifest = readManifest(work);
    const extracted = new Set(readdirSync(work));
    for (const s of manifest.stores) {
      if (!known.has(s.store) || basename(s.file) !== s.file || !extracted.has(s.file)) {
        throw new BackupError(
          `backup lists an unknown or missing store '${String(s.store)}'; nothing restored`,
        );
      }
      if (sha256(join(work, s.file)) !== s.sha256) {
        throw new BackupError(
          `backup file ${s.file} does not match its checksum; nothing restored`,
        );
      }
      const db = new Database(join(work, s.file), { readonly: true });
      const ok = db.pragma('integrity_check', { simple: true });
      db.close();
      if (ok !== 'ok')
        throw new BackupError(`backup file ${s.file} fails integrity_check; nothing restored`);
    }
    if (!opts.force) {
      for (const s of manifest.stores) {
        const target = known.get(s.store) as string;
        if (existsSync(target) && hasRows(target)) {
          throw new BackupError(`${s.store} store already holds data; use --force to replace it`);
        }
      }
    }
    for (const s of manifest.stores) {
      const target = known.get(s.store) as string;
      const staged = join(dirname(target), `.${basename(target)}.restore`);
      copyFileSync(join(work, s.file), staged);
      for (const suffix of ['-wal', '-shm', '-journal']) rmSync(target + suffix, { force: true });
      renameSync(staged, target);
    }
    return manifest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function hasRows(file: string): boolean {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .pluck()
      .all() as string[];
    // Table names come from the database's own catalogue, quoted as identifiers.
    return tables.some(
      (t) => db.prepare(`SELECT 1 FROM "${t.replaceAll('"', '""')}" LIMIT 1`).get() !== undefined,
    );
  } finally {
    db.close();
  }
}
