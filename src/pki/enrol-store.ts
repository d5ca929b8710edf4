// Enrolment tokens and the record of certificates issued by enrolment (issue
// 15): the store's interface (its SQLite implementation, one file beside the
// CA (pki.est.store), is src/adapters/sqlite/enrol-store.ts). Shared by the CLI
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

export const TOKEN_PREFIX = 'vvenr_';
export const TOKEN_SHAPE = /^vvenr_[A-Za-z0-9_-]{43}$/;

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
