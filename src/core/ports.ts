// Ports: the narrow interfaces functions depend on. Adapters (SQLite today,
// DynamoDB later) implement them; the read path is only ever given a reader.

import type { Action, PrincipalRef } from './principal.js';

/** A seed record as stored: wire fields plus the store's ordering key. */
export interface StoredSeedFinding {
  seq: number;
  id: string;
  vulnId: string;
  org: string;
  asset: string;
  dueDate: string; // YYYY-MM-DD
  pluginId: string;
  title: string;
  priority: string;
}

export interface NewSeedFinding {
  vulnId: string;
  org: string;
  asset: string;
  dueDate: string; // YYYY-MM-DD
  pluginId: string;
  title: string;
  priority: string;
}

export interface FindingsPage<T> {
  items: T[];
  /** The ordering key of the last item when more follow, else undefined. */
  lastSeq: number | undefined;
}

export interface FindingsReader {
  /** Findings of one org with seq > afterSeq, in seq order, at most `limit`. */
  listByOrg(org: string, afterSeq: number, limit: number): Promise<FindingsPage<StoredSeedFinding>>;
}

export interface FindingsWriter {
  /**
   * Stores all records or none. Throws VaultError('vuln_exists') naming the
   * index of the first record whose (org, vulnId) is already stored.
   */
  insertSeedBatch(records: readonly NewSeedFinding[]): Promise<{ stored: number }>;
}

export interface PolicyReader {
  /** True only when an explicit grant exists. Throws when the store fails. */
  isAllowed(principal: PrincipalRef, action: Action, org: string): Promise<boolean>;
}

export interface Grant {
  principal: PrincipalRef;
  action: Action;
  org: string;
}

export interface PolicyWriter {
  grant(g: Grant): boolean;
  revoke(g: Grant): boolean;
  list(filter?: Partial<{ principal: PrincipalRef; action: Action; org: string }>): Grant[];
}

/** LO 1.1: one record per authentication or authorization decision. */
export interface AuthzEvent {
  time: string;
  requestId: string | null;
  sourceIp: string;
  principal: {
    id: string | null;
    ou: string | null;
    subject: string | null;
    issuer: string | null;
    serial: string | null;
    fingerprint256: string | null;
  };
  action: Action | 'connect' | 'authenticate';
  org: string | null;
  decision: 'allow' | 'deny' | 'error';
  reason: string;
}

export interface AuditSink {
  authz(event: AuthzEvent): void;
  close(): Promise<void>;
}

/**
 * CSH 1.2: request counts per principal and quota period ("2026-11-24",
 * "2026-11"), kept across restarts. Reads and increments are synchronous and
 * cheap (served from memory); the adapter persists them in the background
 * and on close.
 */
export interface UsageCounter {
  count(principal: string, period: string): number;
  increment(principal: string, period: string): void;
  flush(): void;
  close(): void;
}
