// Enrolment tokens and the record of certificates issued by enrolment (issue
// 15), in one SQLite file beside the CA (pki.est.store). Shared by the CLI
// (`pki enroll-token`, `pki revoke`) and the server (EST), which may run at
// the same time: every change is one transaction, and issuance and
// revocation both hold the file's write lock (BEGIN IMMEDIATE) while they
// decide, so a renewal racing a revocation either sees the revocation or is
// revoked with it (revocation covers every certificate renewed from the one
// revoked, see lineage()).
//
// A token is shown once and stored only as its SHA-256: 256 random bits, so
// a hash lookup is as good as a constant-time comparison, and a copy of the
// file enrols nobody.

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export const TOKEN_PREFIX = 'vvenr_';
const TOKEN_SHAPE = /^vvenr_[A-Za-z0-9_-]{43}$/;

export interface TokenGrant {
  id: string;
  ou: string;
  cn: string;
  expiresAt: string;
}

export interface TokenRow extends TokenGrant {
  createdAt: string;
  usedAt: string | null;
  usedSerial: string | null;
  revokedAt: string | null;
}

export type TokenRefusal = 'malformed' | 'unknown' | 'used' | 'expired' | 'revoked';

export interface IssuedRecord {
  serial: string;
  /** The certificate this one renews (simplereenroll), null for an enrolment. */
  parent: string | null;
  subject: string;
  notAfter: string;
  via: 'simpleenroll' | 'simplereenroll' | 'server';
}

export interface EnrolStore {
  createToken(ou: string, cn: string, ttlMs: number, now?: Date): { token: string } & TokenGrant;
  /**
   * Takes a token for one enrolment, inside the issuance lock: the token is
   * marked used only when `issue` succeeds (a CSR refused after the token
   * check leaves it usable until it expires).
   */
  redeem<T extends { serial: string }>(
    token: string,
    issue: (grant: TokenGrant) => Promise<T>,
    now?: Date,
  ): Promise<{ ok: true; value: T } | { ok: false; reason: TokenRefusal }>;
  revokeToken(id: string, now?: Date): boolean;
  listTokens(): TokenRow[];
  /**
   * Token creations and revocations the server has not yet written to the
   * authorization log (the CLI makes them; the server owns the log).
   */
  unaudited(): { row: TokenRow; event: 'created' | 'revoked' }[];
  markAudited(id: string, event: 'created' | 'revoked'): void;
  /** Runs `fn` holding the issuance lock (this process and every other on the file). */
  locked<T>(fn: () => Promise<T>): Promise<T>;
  recordIssued(r: IssuedRecord, now?: Date): void;
  /** `serial` and every certificate renewed from it, transitively (normalised hex). */
  lineage(serial: string): string[];
  close(): void;
}

const norm = (serial: string) => serial.toLowerCase().replace(/^0+/, '');
const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

export function openEnrolStore(file: string): EnrolStore {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS enrol_tokens (
             id          TEXT PRIMARY KEY,
             hash        TEXT NOT NULL UNIQUE,
             ou          TEXT NOT NULL,
             cn          TEXT NOT NULL,
             created_at  TEXT NOT NULL,
             expires_at  TEXT NOT NULL,
             used_at     TEXT,
             used_serial TEXT,
             revoked_at  TEXT,
             audited     INTEGER NOT NULL DEFAULT 0
           ) STRICT;
           CREATE TABLE IF NOT EXISTS issued (
             serial    TEXT PRIMARY KEY,
             parent    TEXT,
             subject   TEXT NOT NULL,
             not_after TEXT NOT NULL,
             via       TEXT NOT NULL,
             at        TEXT NOT NULL
           ) STRICT;
           CREATE INDEX IF NOT EXISTS issued_parent ON issued (parent);`);
  const insertToken = db.prepare(
    `INSERT INTO enrol_tokens (id, hash, ou, cn, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const byHash = db.prepare<[string], TokenRow>(
    `SELECT id, ou, cn, created_at AS createdAt, expires_at AS expiresAt, used_at AS usedAt,
            used_serial AS usedSerial, revoked_at AS revokedAt
       FROM enrol_tokens WHERE hash = ?`,
  );
  const markUsed = db.prepare(
    `UPDATE enrol_tokens SET used_at = ?, used_serial = ? WHERE id = ? AND used_at IS NULL`,
  );
  const revoke = db.prepare(
    `UPDATE enrol_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,
  );
  const list = db.prepare<[], TokenRow>(
    `SELECT id, ou, cn, created_at AS createdAt, expires_at AS expiresAt, used_at AS usedAt,
            used_serial AS usedSerial, revoked_at AS revokedAt
       FROM enrol_tokens ORDER BY created_at`,
  );
  const pending = db.prepare<[], TokenRow & { audited: number }>(
    `SELECT id, ou, cn, created_at AS createdAt, expires_at AS expiresAt, used_at AS usedAt,
            used_serial AS usedSerial, revoked_at AS revokedAt, audited
       FROM enrol_tokens
      WHERE (audited & 1) = 0 OR (revoked_at IS NOT NULL AND (audited & 2) = 0)
      ORDER BY created_at`,
  );
  const setAudited = db.prepare(`UPDATE enrol_tokens SET audited = audited | ? WHERE id = ?`);
  const insertIssued = db.prepare(
    `INSERT OR REPLACE INTO issued (serial, parent, subject, not_after, via, at)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const children = db.prepare<[string], { serial: string }>(
    `SELECT serial FROM issued WHERE parent = ?`,
  );

  // In-process queue: the SQLite write lock is per connection, and this
  // process's requests share one.
  let queue: Promise<unknown> = Promise.resolve();
  const locked = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(async () => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const v = await fn();
        db.exec('COMMIT');
        return v;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
    });
    queue = run.catch(() => undefined);
    return run;
  };

  return {
    createToken(ou, cn, ttlMs, now = new Date()) {
      const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      const id = `et_${randomBytes(6).toString('hex')}`;
      const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
      insertToken.run(id, hashOf(token), ou, cn, now.toISOString(), expiresAt);
      return { token, id, ou, cn, expiresAt };
    },

    redeem(token, issue, now = new Date()) {
      if (!TOKEN_SHAPE.test(token)) {
        return Promise.resolve({ ok: false as const, reason: 'malformed' as const });
      }
      return locked(async () => {
        const row = byHash.get(hashOf(token));
        if (!row) return { ok: false as const, reason: 'unknown' as const };
        if (row.revokedAt !== null) return { ok: false as const, reason: 'revoked' as const };
        if (row.usedAt !== null) return { ok: false as const, reason: 'used' as const };
        if (!(Date.parse(row.expiresAt) > now.getTime())) {
          return { ok: false as const, reason: 'expired' as const };
        }
        const value = await issue({ id: row.id, ou: row.ou, cn: row.cn, expiresAt: row.expiresAt });
        if (markUsed.run(new Date().toISOString(), value.serial, row.id).changes !== 1) {
          throw new Error('enrolment token used concurrently');
        }
        return { ok: true as const, value };
      });
    },

    revokeToken: (id, now = new Date()) => revoke.run(now.toISOString(), id).changes === 1,
    listTokens: () => list.all(),
    unaudited() {
      const out: { row: TokenRow; event: 'created' | 'revoked' }[] = [];
      for (const { audited, ...row } of pending.all()) {
        if ((audited & 1) === 0) out.push({ row, event: 'created' });
        if (row.revokedAt !== null && (audited & 2) === 0) out.push({ row, event: 'revoked' });
      }
      return out;
    },
    markAudited: (id, event) => void setAudited.run(event === 'created' ? 1 : 2, id),
    locked,

    recordIssued(r, now = new Date()) {
      insertIssued.run(
        norm(r.serial),
        r.parent === null ? null : norm(r.parent),
        r.subject,
        r.notAfter,
        r.via,
        now.toISOString(),
      );
    },

    lineage(serial) {
      const out: string[] = [];
      const seen = new Set<string>();
      const todo = [norm(serial)];
      while (todo.length > 0) {
        const s = todo.pop() as string;
        if (seen.has(s)) continue;
        seen.add(s);
        out.push(s);
        for (const c of children.all(s)) todo.push(c.serial);
      }
      return out;
    },

    close: () => db.close(),
  };
}

/**
 * Writes the token creations and revocations the CLI made to the
 * authorization log, through `write`, then marks them written. The server
 * calls it at start and every few seconds; a record is written at least once
 * (a crash between the write and the mark repeats it, never loses it).
 */
export function auditTokenEvents(
  store: EnrolStore,
  write: (e: { row: TokenRow; event: 'created' | 'revoked' }) => void,
): number {
  const events = store.unaudited();
  for (const e of events) {
    write(e);
    store.markAudited(e.row.id, e.event);
  }
  return events.length;
}
