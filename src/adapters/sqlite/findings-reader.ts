// FindingsReader on SQLite, over a read-only connection. Keyset pagination on
// the (org, seq) index: stable order, no duplicates or gaps while pages are
// fetched, constant cost per page however deep.

import type { FindingsReader, StoredSeedFinding } from '../../core/ports.js';
import type { Db } from './database.js';
import { createFindingQueries } from './finding-queries.js';
import { storeError } from './store-error.js';

interface Row {
  seq: number;
  id: string;
  vuln_id: string | null;
  org: string;
  asset: string;
  due_date: string | null;
  plugin_id: string;
  title: string;
  priority: string | null;
}

export function createSqliteFindingsReader(db: Db): FindingsReader {
  const page = db.prepare<[string, number, number], Row>(
    `SELECT seq, id, vuln_id, org, asset, due_date, plugin_id, title, priority
       FROM findings
      WHERE org = ? AND seq > ?
      ORDER BY seq
      LIMIT ?`,
  );
  return {
    ...createFindingQueries(db),
    listByOrg(org, afterSeq, limit) {
      try {
        const rows = page.all(org, afterSeq, limit + 1);
        const more = rows.length > limit;
        const items: StoredSeedFinding[] = rows.slice(0, limit).map((r) => ({
          seq: r.seq,
          id: r.id,
          vulnId: r.vuln_id ?? r.id,
          org: r.org,
          asset: r.asset,
          dueDate: r.due_date ?? '',
          pluginId: r.plugin_id,
          title: r.title,
          priority: r.priority ?? '',
        }));
        return Promise.resolve({ items, lastSeq: more ? items.at(-1)?.seq : undefined });
      } catch (err) {
        return Promise.reject(storeError(err));
      }
    },
  };
}
