// Idempotency-Key records on SQLite (same file as the findings). A key is
// claimed atomically (INSERT OR IGNORE on the (scope, key) primary key);
// records are kept 48 h (as the contract and README say), and claims
// left 'running' by a process that died are dropped when the store opens.

import type { IdempotencyStore } from '../../core/ports.js';
import type { Db } from './database.js';
import { storeError } from './store-error.js';

/** How long a key's record is kept (README and the contract state it; a test checks). */
export const IDEMPOTENCY_KEEP_MS = 48 * 3600 * 1000;

interface Row {
  state: string;
  request_hash: string | null;
  status: number | null;
  body: string | null;
}

export function createSqliteIdempotencyStore(db: Db): IdempotencyStore {
  db.prepare(`DELETE FROM idempotency_keys WHERE state = 'running'`).run();
  const purge = db.prepare(`DELETE FROM idempotency_keys WHERE created_at < ?`);
  const claim = db.prepare(
    `INSERT OR IGNORE INTO idempotency_keys (scope, key, state, created_at)
     VALUES (?, ?, 'running', ?)`,
  );
  const read = db.prepare<[string, string], Row>(
    `SELECT state, request_hash, status, body FROM idempotency_keys WHERE scope = ? AND key = ?`,
  );
  const done = db.prepare(
    `UPDATE idempotency_keys SET state = 'done', request_hash = ?, status = ?, body = ?
      WHERE scope = ? AND key = ?`,
  );
  const drop = db.prepare(
    `DELETE FROM idempotency_keys WHERE scope = ? AND key = ? AND state = 'running'`,
  );
  const begin = db.transaction((scope: string, key: string, now: Date) => {
    purge.run(new Date(now.getTime() - IDEMPOTENCY_KEEP_MS).toISOString());
    if (claim.run(scope, key, now.toISOString()).changes === 1)
      return { state: 'started' as const };
    const r = read.get(scope, key);
    if (!r || r.state === 'running') return { state: 'running' as const };
    return {
      state: 'done' as const,
      requestHash: r.request_hash ?? '',
      status: r.status ?? 200,
      body: r.body ?? '',
    };
  });
  const wrap = <T>(fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(storeError(err));
    }
  };
  return {
    begin: (scope, key, now) => wrap(() => begin(scope, key, now)),
    complete: (scope, key, r) =>
      wrap(() => {
        done.run(r.requestHash, r.status, r.body, scope, key);
      }),
    release: (scope, key) =>
      wrap(() => {
        drop.run(scope, key);
      }),
  };
}
