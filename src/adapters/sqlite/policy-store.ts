// The policy store (IAM 1.2) on SQLite. The server gets only the reader, over
// a read-only connection; only the CLI writes grants.

import { SqliteError } from 'better-sqlite3';
import { VaultError } from '../../core/errors.js';
import type { Action, PrincipalRef } from '../../core/principal.js';
import type { Grant, PolicyReader, PolicyWriter } from '../../core/ports.js';
import type { Db } from './database.js';

export function createSqlitePolicyReader(db: Db): PolicyReader {
  const lookup = db.prepare<[string, string, string, string], { ok: number }>(
    `SELECT 1 AS ok FROM grants
      WHERE principal_type = ? AND principal = ? AND action = ? AND org = ?`,
  );
  return {
    isAllowed(principal, action, org) {
      try {
        return Promise.resolve(
          lookup.get(principal.type, principal.name, action, org) !== undefined,
        );
      } catch (err) {
        // Fail closed: the caller turns this into a 503 and grants nothing.
        const cause = err instanceof SqliteError ? err.code : 'unknown';
        return Promise.reject(
          new VaultError('policy_unavailable', 'the policy store is unavailable; access denied', {
            cause: new Error(`policy store: ${cause}`, { cause: err }),
          }),
        );
      }
    },
  };
}

interface GrantRow {
  principal_type: string;
  principal: string;
  action: string;
  org: string;
}

export function createSqlitePolicyWriter(db: Db): PolicyWriter {
  const insert = db.prepare(
    `INSERT OR IGNORE INTO grants (principal_type, principal, action, org, created_at)
     VALUES (?, ?, ?, ?, ?)`,
  );
  const del = db.prepare(
    `DELETE FROM grants WHERE principal_type = ? AND principal = ? AND action = ? AND org = ?`,
  );
  // NULL parameters mean "any": the filter is fixed SQL, never assembled.
  const select = db.prepare<Record<string, string | null>, GrantRow>(
    `SELECT principal_type, principal, action, org FROM grants
      WHERE (@type IS NULL OR principal_type = @type)
        AND (@name IS NULL OR principal = @name)
        AND (@action IS NULL OR action = @action)
        AND (@org IS NULL OR org = @org)
      ORDER BY principal_type, principal, org, action`,
  );
  return {
    grant(g) {
      const r = insert.run(
        g.principal.type,
        g.principal.name,
        g.action,
        g.org,
        new Date().toISOString(),
      );
      return r.changes > 0;
    },
    revoke(g) {
      return del.run(g.principal.type, g.principal.name, g.action, g.org).changes > 0;
    },
    list(filter = {}) {
      return select
        .all({
          type: filter.principal?.type ?? null,
          name: filter.principal?.name ?? null,
          action: filter.action ?? null,
          org: filter.org ?? null,
        })
        .map((r): Grant => ({
          principal: { type: r.principal_type as PrincipalRef['type'], name: r.principal },
          action: r.action as Action,
          org: r.org,
        }));
    },
  };
}
