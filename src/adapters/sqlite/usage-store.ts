// Usage-plan quotas that survive a restart (CSH 1.2). Counts live in memory
// for the hot path and are added to SQLite every flushIntervalMs and on
// close, in one transaction: a crash loses at most that interval's counts.
// Static SQL with bound parameters only (CSH 1.4).

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { UsageCounter } from '../../core/ports.js';

interface Entry {
  principal: string;
  period: string;
  stored: number;
  pending: number;
}

export function createSqliteUsageCounter(
  file: string,
  onError: (err: unknown) => void,
  flushIntervalMs = 1000,
): UsageCounter {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 2000');
  db.exec(`CREATE TABLE IF NOT EXISTS usage (
     principal TEXT NOT NULL,
     period    TEXT NOT NULL,
     count     INTEGER NOT NULL,
     PRIMARY KEY (principal, period)
   ) STRICT, WITHOUT ROWID`);
  const select = db.prepare<[string, string], { count: number }>(
    'SELECT count FROM usage WHERE principal = ? AND period = ?',
  );
  const add = db.prepare<[string, string, number]>(
    `INSERT INTO usage (principal, period, count) VALUES (?, ?, ?)
     ON CONFLICT (principal, period) DO UPDATE SET count = count + excluded.count`,
  );
  const entries = new Map<string, Entry>();
  const dirty = new Set<Entry>();

  const entry = (principal: string, period: string): Entry => {
    const k = `${principal}\u0000${period}`;
    let e = entries.get(k);
    if (!e) {
      // A new period: forget the old ones of this principal (bounded memory).
      for (const [key, old] of entries) {
        if (old.principal === principal && old.pending === 0) entries.delete(key);
      }
      e = { principal, period, stored: select.get(principal, period)?.count ?? 0, pending: 0 };
      entries.set(k, e);
    }
    return e;
  };

  const persist = db.transaction((list: readonly Entry[]) => {
    for (const e of list) add.run(e.principal, e.period, e.pending);
  });
  // Memory is updated only after the transaction committed: a failed flush
  // keeps the counts pending and is retried on the next tick.
  const flush = () => {
    if (dirty.size === 0) return;
    const list = [...dirty];
    persist(list);
    for (const e of list) {
      e.stored += e.pending;
      e.pending = 0;
    }
    dirty.clear();
  };

  const timer = setInterval(() => {
    try {
      flush();
    } catch (err) {
      onError(err);
    }
  }, flushIntervalMs);
  timer.unref();

  return {
    count: (principal, period) => {
      const e = entry(principal, period);
      return e.stored + e.pending;
    },
    increment(principal, period) {
      const e = entry(principal, period);
      e.pending++;
      dirty.add(e);
    },
    flush,
    close() {
      clearInterval(timer);
      try {
        flush();
      } finally {
        db.close();
      }
    },
  };
}
