// In-memory ports for unit tests of the pure functions (query, seed, ingest):
// a policy store, an audit sink, an idempotency store, cursor keys, a caller, and spies that
// write every port call to one shared log, so a test can assert what happened
// in which order (authorize before any read, nothing stored after a refusal).

import { randomBytes } from 'node:crypto';
import { fixedCursorKeys, type CursorKeys } from '../../src/core/cursor-keys.js';
import { VaultError } from '../../src/core/errors.js';
import type {
  AuditSink,
  AuthzEvent,
  DataAccessEvent,
  FindingsReader,
  FindingsWriter,
  Grant,
  IdempotencyState,
  IdempotencyStore,
  PolicyReader,
  ScanImport,
} from '../../src/core/ports.js';
import type { Action, CallContext, PrincipalRef } from '../../src/core/principal.js';
import { createAuthorize, type Authorize } from '../../src/functions/authorize.js';

/** Port calls in the order they happened, e.g. "reader.queryFindings org-a". */
export type CallLog = string[];

export function callContext(ou = 'scanner', requestId = 'req-1'): CallContext {
  return {
    requestId,
    sourceIp: '127.0.0.1',
    principal: {
      ref: { type: 'ou', name: ou },
      id: `${ou}-client`,
      certificate: {
        subject: `CN=${ou}-client,OU=${ou}`,
        issuer: 'CN=test-ca',
        serial: '01',
        fingerprint256: 'AB:CD',
        notAfter: '2099-01-01T00:00:00.000Z',
      },
    },
  };
}

/** Page-cursor keys with a fresh random secret (and optional previous ones). */
export function testCursorKeys(previous: Uint8Array[] = []): CursorKeys {
  return fixedCursorKeys(randomBytes(32), previous);
}

/** Explicit grants only; `failing` makes every lookup throw (a store that is down). */
export class MemoryPolicies implements PolicyReader {
  private readonly grants = new Set<string>();
  failing = false;

  private static key(p: PrincipalRef, action: Action, org: string): string {
    return JSON.stringify([p.type, p.name, action, org]);
  }

  grant(g: Grant): void {
    this.grants.add(MemoryPolicies.key(g.principal, g.action, g.org));
  }

  revoke(g: Grant): void {
    this.grants.delete(MemoryPolicies.key(g.principal, g.action, g.org));
  }

  isAllowed(p: PrincipalRef, action: Action, org: string): Promise<boolean> {
    if (this.failing) return Promise.reject(new Error('policy store down'));
    return Promise.resolve(this.grants.has(MemoryPolicies.key(p, action, org)));
  }
}

export class MemoryAudit implements AuditSink {
  readonly authzEvents: AuthzEvent[] = [];
  readonly dataAccessEvents: DataAccessEvent[] = [];

  constructor(private readonly log?: CallLog) {}

  authz(e: AuthzEvent): void {
    this.authzEvents.push(e);
    this.log?.push(`audit.authz ${e.decision} ${e.org ?? ''}`);
  }

  dataAccess(e: DataAccessEvent): void {
    this.dataAccessEvents.push(e);
    this.log?.push(`audit.dataAccess ${e.org} ${e.count}`);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The real authorize function over the in-memory policies, its calls logged. */
export function loggedAuthorize(policies: PolicyReader, audit: AuditSink, log: CallLog): Authorize {
  const authorize = createAuthorize({ policies, audit });
  return (ctx, action, orgs) => {
    log.push(`authorize ${action} ${orgs.join(',')}`);
    return authorize(ctx, action, orgs);
  };
}

const KEEP_MS = 48 * 3600 * 1000;

/** Idempotency records kept in a map, forgotten after 48 hours like the real stores. */
export class MemoryIdempotency implements IdempotencyStore {
  private readonly records = new Map<
    string,
    { createdAt: number; state: IdempotencyState; requestHash?: string }
  >();

  constructor(private readonly log?: CallLog) {}

  begin(scope: string, key: string, now: Date): Promise<IdempotencyState> {
    this.log?.push(`idempotency.begin ${key}`);
    for (const [k, r] of this.records) {
      if (r.createdAt < now.getTime() - KEEP_MS) this.records.delete(k);
    }
    const k = JSON.stringify([scope, key]);
    const r = this.records.get(k);
    if (!r) {
      this.records.set(k, { createdAt: now.getTime(), state: { state: 'running' } });
      return Promise.resolve({ state: 'started' });
    }
    return Promise.resolve(r.state);
  }

  complete(
    scope: string,
    key: string,
    r: { requestHash: string; status: number; body: string },
  ): Promise<void> {
    this.log?.push(`idempotency.complete ${key}`);
    const rec = this.records.get(JSON.stringify([scope, key]));
    if (rec) rec.state = { state: 'done', ...r };
    return Promise.resolve();
  }

  release(scope: string, key: string): Promise<void> {
    this.log?.push(`idempotency.release ${key}`);
    const k = JSON.stringify([scope, key]);
    if (this.records.get(k)?.state.state === 'running') this.records.delete(k);
    return Promise.resolve();
  }
}

/** The reader, every call logged with the org it asks for. */
export function spyReader(reader: FindingsReader, log: CallLog): FindingsReader {
  return {
    listSeedRecords: (org, ...rest) => {
      log.push(`reader.listSeedRecords ${org}`);
      return reader.listSeedRecords(org, ...rest);
    },
    queryFindings: (org, ...rest) => {
      log.push(`reader.queryFindings ${org}`);
      return reader.queryFindings(org, ...rest);
    },
    getFinding: (org, id) => {
      log.push(`reader.getFinding ${org}`);
      return reader.getFinding(org, id);
    },
    summary: (org, top, now) => {
      log.push(`reader.summary ${org}`);
      return reader.summary(org, top, now);
    },
    history: (org, ...rest) => {
      log.push(`reader.history ${org}`);
      return reader.history(org, ...rest);
    },
  };
}

/** The writer and the scan imports it begins, every call logged. */
export function spyWriter(writer: FindingsWriter, log: CallLog): FindingsWriter {
  return {
    insertSeedBatch: (records) => {
      log.push(`writer.insertSeedBatch ${records.length}`);
      return writer.insertSeedBatch(records);
    },
    async beginScanImport(meta) {
      log.push(`writer.beginScanImport ${meta.org}`);
      const imp = await writer.beginScanImport(meta);
      const spied: ScanImport = {
        stage: (findings, assets) => {
          log.push(`import.stage ${findings.length} ${assets.length}`);
          return imp.stage(findings, assets);
        },
        commit: (received) => {
          log.push(`import.commit ${received}`);
          return imp.commit(received);
        },
        abort: () => {
          log.push('import.abort');
          return imp.abort();
        },
      };
      return spied;
    },
  };
}

/** Asserts a VaultError with this code (for assert.rejects). */
export const isVaultError = (code: string) => (err: unknown) =>
  err instanceof VaultError && err.code === code;
