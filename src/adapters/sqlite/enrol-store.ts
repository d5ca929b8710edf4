// The enrolment store (src/pki/enrol-store.ts) on SQLite: one file beside
// the CA, shared by the CLI and the server. Every change is one transaction;
// issuance and revocation both hold the file's write lock (BEGIN IMMEDIATE)
// while they decide. Tokens are kept only as their SHA-256.

import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  TOKEN_PREFIX,
  TOKEN_SHAPE,
  type EnrolStore,
  type TokenRow,
} from '../../pki/enrol-store.js';

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
