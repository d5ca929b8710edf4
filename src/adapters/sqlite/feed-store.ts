// The FeedStore on SQLite: feed_kev, feed_epss and feeds live in the findings
// database (migration 6) so the read path can join them to finding_cves.
// An import replaces the whole feed in one write transaction, rows inserted
// as the reader streams them (prepared statements, static SQL):
//
//   BEGIN IMMEDIATE → DELETE FROM feed_x → INSERT each row → feeds row →
//   re-rank the findings with CVEs (priority.ts) → COMMIT
//
// Readers (WAL) see the previous version until COMMIT; a bad row (the reader
// throws), a store error or a crash rolls all of it back.

import type {
  CvePriority,
  EpssScore,
  FeedName,
  FeedSource,
  FeedStatus,
  FeedStore,
  KevEntry,
} from '../../core/feeds.js';
import { FEED_NAMES } from '../../core/feeds.js';
import type { Db } from './database.js';
import { RERANK_SQL } from './priority.js';
import { storeError } from './store-error.js';

/** CVEs per lookup statement, passed as one JSON array parameter. */
const LOOKUP_CHUNK = 500;

interface StatusRow {
  name: string;
  version: string;
  feed_date: string;
  count: number;
  sha256: string;
  imported_at: string;
}

export function createSqliteFeedStore(db: Db, options: { now?: () => Date } = {}): FeedStore {
  const now = options.now ?? (() => new Date());
  const putStatus = db.prepare<[string, string, string, number, string, string]>(
    `INSERT OR REPLACE INTO feeds (name, version, feed_date, count, sha256, imported_at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const clear: Record<FeedName, { run(): unknown }> = {
    kev: db.prepare('DELETE FROM feed_kev'),
    epss: db.prepare('DELETE FROM feed_epss'),
  };
  const insertKev = db.prepare<[string, string, string, number, string, string, string]>(
    `INSERT INTO feed_kev (cve, date_added, due_date, ransomware, vendor, product, name)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertEpss = db.prepare<[string, number, number]>(
    'INSERT INTO feed_epss (cve, epss, percentile) VALUES (?, ?, ?)',
  );
  const rerank = db.prepare(RERANK_SQL);
  const selectStatus = db.prepare<[], StatusRow>(
    'SELECT name, version, feed_date, count, sha256, imported_at FROM feeds',
  );
  // The CVEs come as one JSON array bound to ?: no SQL is assembled per call.
  const lookupKev = db.prepare<
    [string],
    { cve: string; date_added: string; due_date: string; ransomware: number }
  >(
    `SELECT cve, date_added, due_date, ransomware FROM feed_kev
      WHERE cve IN (SELECT value FROM json_each(?))`,
  );
  const lookupEpss = db.prepare<[string], { cve: string; epss: number; percentile: number }>(
    `SELECT cve, epss, percentile FROM feed_epss WHERE cve IN (SELECT value FROM json_each(?))`,
  );

  async function replace<T>(
    name: FeedName,
    rows: AsyncIterable<T> | Iterable<T>,
    source: FeedSource,
    insert: (row: T) => void,
  ): Promise<FeedStatus> {
    try {
      db.exec('BEGIN IMMEDIATE');
    } catch (err) {
      throw storeError(err);
    }
    try {
      clear[name].run();
      let count = 0;
      for await (const row of rows) {
        insert(row);
        count++;
      }
      const status: FeedStatus = {
        name,
        version: source.version,
        date: source.date,
        count,
        sha256: source.sha256(),
        importedAt: now().toISOString(),
      };
      putStatus.run(name, status.version, status.date, count, status.sha256, status.importedAt);
      // Stored findings are ranked by the feeds (sort=priority): re-rank them
      // in the same transaction, so readers see the new feed and its order together.
      rerank.run();
      db.exec('COMMIT');
      return status;
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw storeError(err);
    }
  }

  return {
    importKev(entries, source) {
      return replace<KevEntry>('kev', entries, source, (e) =>
        insertKev.run(
          e.cve,
          e.dateAdded,
          e.dueDate,
          e.ransomware ? 1 : 0,
          e.vendorProject,
          e.product,
          e.vulnerabilityName,
        ),
      );
    },
    importEpss(rows, source) {
      return replace<EpssScore>('epss', rows, source, (r) =>
        insertEpss.run(r.cve, r.epss, r.percentile),
      );
    },
    status() {
      try {
        const rows = new Map(selectStatus.all().map((r) => [r.name, r]));
        return Promise.resolve(
          FEED_NAMES.flatMap((name): FeedStatus[] => {
            const r = rows.get(name);
            return r
              ? [
                  {
                    name,
                    version: r.version,
                    date: r.feed_date,
                    count: r.count,
                    sha256: r.sha256,
                    importedAt: r.imported_at,
                  },
                ]
              : [];
          }),
        );
      } catch (err) {
        return Promise.reject(storeError(err));
      }
    },
    lookup(cves) {
      try {
        const out = new Map<string, CvePriority>();
        for (const cve of cves) out.set(cve, { kev: null, epss: null, epssPercentile: null });
        const unique = [...out.keys()];
        for (let i = 0; i < unique.length; i += LOOKUP_CHUNK) {
          const chunk = JSON.stringify(unique.slice(i, i + LOOKUP_CHUNK));
          for (const k of lookupKev.all(chunk)) {
            const p = out.get(k.cve);
            if (p) {
              p.kev = {
                dateAdded: k.date_added,
                dueDate: k.due_date,
                ransomware: k.ransomware === 1,
              };
            }
          }
          for (const e of lookupEpss.all(chunk)) {
            const p = out.get(e.cve);
            if (p) {
              p.epss = e.epss;
              p.epssPercentile = e.percentile;
            }
          }
        }
        return Promise.resolve(out);
      } catch (err) {
        return Promise.reject(storeError(err));
      }
    },
  };
}
