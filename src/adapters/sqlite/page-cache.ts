// A read-through cache of findings pages in front of the SQLite reader, for
// clients that poll the same pages. Correct by construction: SQLite's
// `PRAGMA data_version` on the read-only connection changes whenever any
// other connection or process commits to the database, and the whole cache
// is dropped when it does, so a page is never served after a write that
// could change it. The version check costs a few microseconds; a 100-row
// page costs a hundred or more. Memory is bounded by the number of cached
// rows (oldest pages are evicted first). Pages are frozen: shared, never
// modified.

import type { FindingsPage, FindingsReader, StoredSeedFinding } from '../../core/ports.js';
import type { Db } from './database.js';

export function withPageCache(reader: FindingsReader, db: Db, maxRows = 50_000): FindingsReader {
  const version = db.prepare('PRAGMA data_version').pluck();
  const pages = new Map<string, FindingsPage<StoredSeedFinding>>();
  let rows = 0;
  let seen: unknown;

  return {
    async listByOrg(org, afterSeq, limit) {
      const v = version.get();
      if (v !== seen) {
        pages.clear();
        rows = 0;
        seen = v;
      }
      const key = `${afterSeq}\u0000${limit}\u0000${org}`;
      const hit = pages.get(key);
      if (hit) return hit;
      const page = await reader.listByOrg(org, afterSeq, limit);
      for (const item of page.items) Object.freeze(item);
      Object.freeze(page.items);
      const frozen = Object.freeze(page);
      pages.set(key, frozen);
      rows += page.items.length + 1;
      for (const [k, old] of pages) {
        if (rows <= maxRows) break;
        pages.delete(k);
        rows -= old.items.length + 1;
      }
      return frozen;
    },
  };
}
