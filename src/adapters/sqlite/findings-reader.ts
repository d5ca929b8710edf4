// FindingsReader on SQLite, over a read-only connection. Keyset pagination on
// the (org, seq) index: stable order, no duplicates or gaps while pages are
// fetched, constant cost per page however deep. Seed pages show no sealed
// field, but still need the org's data key (fail closed when it is unavailable).

import type { FindingsReader, StoredSeedFinding } from '../../core/ports.js';
import type { Db } from './database.js';
import type { FindingCiphers } from '../../crypto/finding-ciphers.js';
import { createFindingQueries, sealerFor } from './finding-queries.js';
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

export function createSqliteFindingsReader(db: Db, ciphers: FindingCiphers): FindingsReader {
  const page = db.prepare<[string, number, number], Row>(
    `SELECT seq, id, vuln_id, org, asset, due_date, plugin_id, title, priority
       FROM findings
      WHERE org = ? AND seq > ? AND vuln_id IS NOT NULL
      ORDER BY seq
      LIMIT ?`,
  );
  return {
    ...createFindingQueries(db, ciphers),
    async listSeedRecords(org, afterSeq, limit) {
      let rows: Row[];
      try {
        rows = page.all(org, afterSeq, limit + 1);
      } catch (err) {
        throw storeError(err);
      }
      if (rows.length > 0) await sealerFor(ciphers, org);
      const more = rows.length > limit;
      const items: StoredSeedFinding[] = rows.slice(0, limit).map((r) => ({
        seq: r.seq,
        id: r.id,
        vulnId: r.vuln_id as string,
        org: r.org,
        asset: r.asset,
        dueDate: r.due_date ?? '',
        pluginId: r.plugin_id,
        title: r.title,
        priority: r.priority ?? '',
      }));
      return { items, lastSeq: more ? items.at(-1)?.seq : undefined };
    },
  };
}
