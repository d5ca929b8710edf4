// DataKeyStore on SQLite: the `data_keys` table of the findings database, so
// wrapped DEKs travel with the data (and its backups) while the KEKs never
// do. Creating a key writes, so it runs under the writer's WriteLock when one
// is given (the server's); lookups go through `readDb` when given (the
// server's read-only query connection, IAM 1.3), else through `db`.

import type { DataKeyStore, WrappedDataKey } from '../../core/keys.js';
import type { Db } from './database.js';
import type { WriteLock } from './write-lock.js';

interface Row {
  org: string;
  kek: string;
  wrapped: Buffer;
}

export function createSqliteDataKeyStore(db: Db, lock?: WriteLock, readDb: Db = db): DataKeyStore {
  const get = readDb.prepare<[string], Row>(
    `SELECT org, kek, wrapped FROM data_keys WHERE org = ?`,
  );
  const all = readDb.prepare<[], Row>(`SELECT org, kek, wrapped FROM data_keys ORDER BY org`);
  // The key just written, read back on the writing connection itself.
  const written = db.prepare<[string], Row>(
    `SELECT org, kek, wrapped FROM data_keys WHERE org = ?`,
  );
  const writable = !db.readonly;
  const insert = writable
    ? db.prepare(
        `INSERT OR IGNORE INTO data_keys (org, kek, wrapped, created_at) VALUES (?, ?, ?, ?)`,
      )
    : undefined;
  const rewrap = writable
    ? db.prepare(
        `UPDATE data_keys SET kek = ?, wrapped = ?, rewrapped_at = ? WHERE org = ? AND kek = ?`,
      )
    : undefined;
  const row = (r: Row): WrappedDataKey => ({ org: r.org, kek: r.kek, wrapped: r.wrapped });
  const locked = <T>(fn: () => T): Promise<T> =>
    lock ? lock.run(fn) : new Promise((resolve) => resolve(fn()));

  return {
    get(org) {
      return new Promise((resolve) => {
        const r = get.get(org);
        resolve(r ? row(r) : undefined);
      });
    },
    list() {
      return new Promise((resolve) => resolve(all.all().map(row)));
    },
    create(key) {
      if (!insert) return Promise.reject(new Error('data key store is read-only'));
      return locked(() => {
        insert.run(key.org, key.kek, key.wrapped, new Date().toISOString());
        return row(written.get(key.org) as Row);
      });
    },
    rewrap(org, fromKek, to) {
      if (!rewrap) return Promise.reject(new Error('data key store is read-only'));
      return locked(
        () => rewrap.run(to.kek, to.wrapped, new Date().toISOString(), org, fromKek).changes === 1,
      );
    },
  };
}
