// SLA policies on SQLite (sla_policies, migration 7). Setting an org's policy
// recomputes the due time of its scan findings from when each one's SLA
// clock started (sla_since: first seen, or reopened), in the same
// transaction: static SQL, the days bound as parameters.

import type { SlaPolicies } from '../../core/ports.js';
import type { SlaPolicy } from '../../core/triage.js';
import type { Db } from './database.js';
import { storeError } from './store-error.js';
import type { WriteLock } from './write-lock.js';

export function createSqliteSlaStore(db: Db, options: { lock?: WriteLock } = {}): SlaPolicies {
  const get = db.prepare<[string], string>(`SELECT policy FROM sla_policies WHERE org = ?`);
  const put = db.prepare<[string, string, string]>(
    `INSERT OR REPLACE INTO sla_policies (org, policy, updated_at) VALUES (?, ?, ?)`,
  );
  // strftime with a NULL modifier is NULL: a severity without an SLA gets no due time.
  const recompute = db.prepare(
    `UPDATE findings SET due_at = strftime('%Y-%m-%dT%H:%M:%fZ', sla_since,
        '+' || CASE severity WHEN 'critical' THEN @critical WHEN 'high' THEN @high
                             WHEN 'medium' THEN @medium WHEN 'low' THEN @low
                             ELSE @info END || ' days'),
        rev = rev + 1
      WHERE org = @org AND vuln_id IS NULL`,
  );
  const set = db.transaction((org: string, policy: SlaPolicy, at: string) => {
    put.run(org, JSON.stringify(policy), at);
    return recompute.run({ org, ...policy }).changes;
  });
  return {
    get(org) {
      try {
        const p = get.pluck().get(org);
        return Promise.resolve(p === undefined ? undefined : (JSON.parse(p) as SlaPolicy));
      } catch (err) {
        return Promise.reject(storeError(err));
      }
    },
    async set(org, policy, at) {
      const run = () => ({ recomputed: set.immediate(org, policy, at) });
      try {
        return options.lock ? await options.lock.run(run) : run();
      } catch (err) {
        throw storeError(err);
      }
    },
  };
}
