// FindingsTriage on SQLite: people's analysis of findings, on the findings
// database's write connection under the same WriteLock as imports (so a
// change never lands inside an import's transaction). Each change is one
// transaction: the finding's `triage` (clear part), `triage_sealed` (the
// comment, sealed to "<id>#triage"), `rev` + 1, `suppressed_until`, and a
// finding_history row whose comment is sealed to "<id>#h<hseq>". Static SQL
// with bound parameters only.

import { VaultError } from '../../core/errors.js';
import type { ScannerAnalysis } from '../../core/finding.js';
import type { FindingFilter, FindingsTriage, TriageMeta } from '../../core/ports.js';
import {
  suppressedUntil,
  type StoredTriage,
  type TriageChange,
  type TriageState,
} from '../../core/triage.js';
import type { FindingSealer } from '../../crypto/envelope.js';
import type { FindingCiphers } from '../../crypto/finding-ciphers.js';
import type { Db } from './database.js';
import { FILTER_SQL, filterParams, historyAad, triageAad } from './finding-queries.js';
import { storeError } from './store-error.js';
import type { WriteLock } from './write-lock.js';

interface Target {
  seq: number;
  id: string;
  org: string;
  rev: number;
  triage: string | null;
  analysis: string | null;
}

const TARGET_COLUMNS = 'f.seq, f.id, f.org, f.rev, f.triage, f.analysis';

/** The effective state before a change: the person's, else the scanner's, else none. */
function stateOf(t: Target): TriageState | null {
  if (t.triage !== null) return (JSON.parse(t.triage) as StoredTriage).state;
  if (t.analysis !== null) return (JSON.parse(t.analysis) as ScannerAnalysis).state as TriageState;
  return null;
}

export function createSqliteTriageStore(
  db: Db,
  options: { ciphers: FindingCiphers; lock: WriteLock },
): FindingsTriage {
  const byId = db.prepare<[string, string], Target>(
    `SELECT ${TARGET_COLUMNS} FROM findings f WHERE f.org = ? AND f.id = ?`,
  );
  const byFilter = db.prepare<Record<string, unknown>, Target>(
    `SELECT ${TARGET_COLUMNS} FROM findings f WHERE ${FILTER_SQL} ORDER BY f.seq LIMIT @limit`,
  );
  const setTriage = db.prepare<[string, Buffer | null, string | null, number]>(
    `UPDATE findings SET triage = ?, triage_sealed = ?, suppressed_until = ?, rev = rev + 1
      WHERE seq = ?`,
  );
  const addHistory = db.prepare<
    [string, number, string, string, string | null, string, string | null, string | null]
  >(
    `INSERT INTO finding_history (org, finding_seq, at, kind, from_value, to_value, by_whom, analysis)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const sealHistory = db.prepare<[Buffer, number]>(
    `UPDATE finding_history SET sealed = ? WHERE hseq = ?`,
  );
  const expired = db.prepare<[string], Target & { suppressed_until: string }>(
    `SELECT ${TARGET_COLUMNS}, f.suppressed_until FROM findings f
      WHERE f.triage IS NOT NULL AND f.suppressed_until <= ?
        AND json_extract(f.triage, '$.state') = 'risk_accepted'`,
  );

  /** Writes one change; inside a transaction. */
  const apply = (
    t: Target,
    change: TriageChange,
    meta: TriageMeta,
    sealer: FindingSealer,
    kind: 'analysis' | 'expired' = 'analysis',
  ): TriageState | null => {
    const from = stateOf(t);
    const stored: StoredTriage = {
      state: change.state,
      justification: change.justification,
      response: change.response,
      expiresAt: change.expiresAt,
      by: meta.by,
      at: meta.at,
    };
    const scanner =
      t.analysis === null ? null : (JSON.parse(t.analysis) as Pick<ScannerAnalysis, 'state'>);
    const comment = change.comment;
    setTriage.run(
      JSON.stringify(stored),
      comment === '' ? null : sealer.seal(t.org, triageAad(t.id), emptyWith(comment)),
      suppressedUntil(stored, scanner),
      t.seq,
    );
    const h = addHistory.run(
      t.org,
      t.seq,
      meta.at,
      kind,
      from,
      change.state,
      meta.by,
      JSON.stringify(stored),
    );
    if (comment !== '') {
      const hseq = Number(h.lastInsertRowid);
      sealHistory.run(sealer.seal(t.org, historyAad(t.id, hseq), emptyWith(comment)), hseq);
    }
    return from;
  };

  const inTransaction = <T>(fn: () => T): Promise<T> =>
    options.lock.run(() => {
      try {
        return db.transaction(fn).immediate();
      } catch (err) {
        throw storeError(err);
      }
    });

  return {
    async setAnalysis(org, id, change, meta) {
      const { sealer } = await options.ciphers.forWrite(org);
      return inTransaction(() => {
        const t = byId.get(org, id);
        if (!t) throw new VaultError('not_found', 'no finding with this id in this org');
        if (t.rev !== meta.ifRev) {
          throw new VaultError(
            'precondition_failed',
            'the finding changed since its ETag was read (If-Match is stale); nothing was changed — GET it again and retry',
          );
        }
        const from = apply(t, change, meta, sealer);
        return { rev: t.rev + 1, from };
      });
    },

    async bulkSetAnalysis(org, target, change, meta) {
      const { sealer } = await options.ciphers.forWrite(org);
      return inTransaction(() => {
        let targets: Target[];
        if ('ids' in target) {
          targets = target.ids.map((id, index) => {
            const t = byId.get(org, id);
            if (!t) {
              throw new VaultError(
                'not_found',
                `ids[${index}]: no finding with this id in this org; nothing was changed`,
              );
            }
            return t;
          });
        } else {
          const f: FindingFilter = target.filter;
          targets = byFilter.all({ ...filterParams(org, f), limit: meta.max + 1 });
          if (targets.length > meta.max) {
            throw new VaultError(
              'triage_too_many',
              `the filter matches more than ${meta.max} findings; narrow it (nothing was changed)`,
            );
          }
        }
        if (targets.length > meta.max) {
          throw new VaultError(
            'triage_too_many',
            `at most ${meta.max} findings per change; nothing was changed`,
          );
        }
        return {
          changes: targets.map((t) => ({ id: t.id, from: apply(t, change, meta, sealer) })),
        };
      });
    },

    async sweepExpired(now) {
      // Findings of every org: each one's comment (none here) needs no key,
      // but the history row is sealed per org only when it has a comment.
      return inTransaction(() => {
        const rows = expired.all(now);
        for (const t of rows) {
          apply(
            t,
            { state: 'in_triage', justification: null, response: [], comment: '', expiresAt: null },
            { by: 'vulnvault', at: t.suppressed_until },
            NO_SEALER,
            'expired',
          );
        }
        return rows.length;
      });
    },
  };
}

const emptyWith = (detail: string) => ({ description: '', solution: '', evidence: '', detail });

/** The sweep writes no comment, so it never seals. */
const NO_SEALER: FindingSealer = {
  seal: () => {
    throw new Error('the expiry sweep seals nothing');
  },
  sealPacked: () => {
    throw new Error('the expiry sweep seals nothing');
  },
  open: () => {
    throw new Error('the expiry sweep opens nothing');
  },
  openPacked: () => {
    throw new Error('the expiry sweep opens nothing');
  },
};
