// The query functions (src/functions/query/findings.ts) over in-memory ports:
// authorize before any read, filters as the store expects them, cursors bound
// to org and filters, one data-access record per read, not_found.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { newFinding, type ScannedFinding } from '../../src/core/finding.js';
import type { FindingFilter, FindingsReader } from '../../src/core/ports.js';
import {
  getFinding,
  getSummary,
  listFindings,
  type QueryDeps,
} from '../../src/functions/query/findings.js';
import {
  callContext,
  isVaultError,
  loggedAuthorize,
  MemoryAudit,
  MemoryPolicies,
  spyReader,
  testCursorKeys,
  type CallLog,
} from '../helpers/fake-ports.js';
import { createMemoryStore, type MemoryStore } from '../helpers/memory-store.js';

const ORG = 'org-a';

function finding(n: number, over: Partial<ScannedFinding> = {}): ScannedFinding {
  return newFinding({
    asset: 'h1',
    scanner: 'nessus',
    pluginId: String(n),
    port: 443,
    protocol: 'tcp',
    title: `Finding ${n}`,
    severity: 'medium',
    severityRaw: '2',
    cvss3Score: null,
    cvss3Vector: null,
    cvss2Score: null,
    cvss2Vector: null,
    cves: [],
    description: `description ${n}`,
    solution: `solution ${n}`,
    evidence: `evidence ${n}`,
    service: 'www',
    ...over,
  });
}

async function stored(store: MemoryStore, org: string, findings: ScannedFinding[]) {
  const imp = await store.writer.beginScanImport({
    scanId: randomUUID(),
    org,
    format: 'native',
    principal: 'setup',
    startedAt: new Date().toISOString(),
  });
  await imp.stage(findings, [{ scanner: 'nessus', asset: 'h1', category: '' }]);
  await imp.commit(findings.length);
}

async function setup(findings: ScannedFinding[] = [], granted = true) {
  const log: CallLog = [];
  const store = createMemoryStore();
  await stored(store, ORG, findings);
  await stored(store, 'org-b', [finding(99)]);
  const policies = new MemoryPolicies();
  const ctx = callContext('readers');
  if (granted) policies.grant({ principal: ctx.principal.ref, action: 'findings:read', org: ORG });
  const audit = new MemoryAudit(log);
  // The filters the reader was asked for, to check what the function made of the query.
  const filters: FindingFilter[] = [];
  const spied = spyReader(store.reader, log);
  const reader: FindingsReader = {
    ...spied,
    queryFindings: (org, filter, ...rest) => {
      filters.push(filter);
      return spied.queryFindings(org, filter, ...rest);
    },
  };
  const deps: QueryDeps = {
    authorize: loggedAuthorize(policies, audit, log),
    reader,
    audit,
    cursors: testCursorKeys(),
  };
  return { ctx, deps, log, audit, store, filters };
}

const reads = (log: CallLog) => log.filter((l) => l.startsWith('reader.'));

describe('listFindings', () => {
  it('reads nothing and records no data access unless authorize allows the org', async () => {
    const { ctx, deps, log, audit } = await setup([finding(1)], false);
    await assert.rejects(
      listFindings(ctx, { org: ORG, limit: 10 }, deps),
      isVaultError('forbidden'),
    );
    assert.deepEqual(reads(log), []);
    assert.equal(audit.dataAccessEvents.length, 0);
    assert.deepEqual(
      audit.authzEvents.map((e) => [e.action, e.org, e.decision]),
      [['findings:read', ORG, 'deny']],
    );
  });

  it('authorizes, then reads, then records the data access', async () => {
    const { ctx, deps, log } = await setup([finding(1), finding(2)]);
    await listFindings(ctx, { org: ORG, limit: 10 }, deps);
    assert.deepEqual(log, [
      `authorize findings:read ${ORG}`,
      `audit.authz allow ${ORG}`,
      `reader.queryFindings ${ORG}`,
      `audit.dataAccess ${ORG} 2`,
    ]);
  });

  it('records who read how many findings of which org', async () => {
    const { ctx, deps, audit } = await setup([finding(1), finding(2), finding(3)]);
    await listFindings(ctx, { org: ORG, limit: 2 }, deps);
    const [e] = audit.dataAccessEvents;
    assert.ok(e);
    assert.deepEqual(
      [e.action, e.org, e.count, e.requestId, e.principal.name, e.principal.ou, e.scanId],
      ['findings:read', ORG, 2, ctx.requestId, 'readers', 'readers', null],
    );
  });

  it('returns list items without the sealed fields or the store ordering key', async () => {
    const { ctx, deps } = await setup([finding(1, { cves: ['CVE-2024-0001'] })]);
    const r = await listFindings(ctx, { org: ORG, limit: 10 }, deps);
    assert.equal(r.org, ORG);
    assert.equal(r.next, null);
    const [item] = r.items;
    assert.ok(item);
    for (const k of ['seq', 'description', 'solution', 'evidence']) assert.ok(!(k in item), k);
    assert.deepEqual([item.pluginId, item.cves, item.status], ['1', ['CVE-2024-0001'], 'open']);
  });

  it('turns the query into store filters: severities listed, CVE upper-cased, since as ISO time', async () => {
    const { ctx, deps, filters } = await setup([
      finding(1, { severity: 'high', cves: ['CVE-2024-0001'], title: 'OpenSSL bug' }),
      finding(2, { severity: 'critical', cves: ['CVE-2024-0001'] }),
      finding(3, { severity: 'high' }),
      finding(4, { severity: 'low', cves: ['CVE-2024-0001'] }),
    ]);
    const r = await listFindings(
      ctx,
      {
        org: ORG,
        severity: 'High, CRITICAL,high',
        cve: 'cve-2024-0001',
        status: 'open',
        asset: 'h1',
        since: '2000-01-01',
        limit: 10,
      },
      deps,
    );
    const { now, ...given } = filters[0] as { now: string };
    assert.ok(Math.abs(Date.parse(now) - Date.now()) < 60_000, 'the read is given the clock');
    assert.deepEqual(given, {
      severity: ['high', 'critical'],
      status: 'open',
      cve: 'CVE-2024-0001',
      asset: 'h1',
      since: '2000-01-01T00:00:00.000Z',
      q: undefined,
      active: undefined,
      analysis: undefined,
      overdue: undefined,
      dueBefore: undefined,
      kev: undefined,
      epssMin: undefined,
      sort: 'seq',
    });
    assert.deepEqual(
      r.items.map((f) => f.pluginId),
      ['1', '2'],
    );
    const q = await listFindings(ctx, { org: ORG, q: 'openssl', limit: 10 }, deps);
    assert.deepEqual(
      q.items.map((f) => f.pluginId),
      ['1'],
    );
  });

  it('refuses a bad severity or since with validation_failed, reading nothing', async () => {
    const { ctx, deps, log } = await setup([finding(1)]);
    await assert.rejects(
      listFindings(ctx, { org: ORG, severity: 'high,urgent', limit: 10 }, deps),
      isVaultError('validation_failed'),
    );
    await assert.rejects(
      listFindings(ctx, { org: ORG, since: 'yesterday', limit: 10 }, deps),
      isVaultError('validation_failed'),
    );
    assert.deepEqual(reads(log), []);
  });

  it('pages with a cursor that only the same org and filters accept', async () => {
    const { ctx, deps, log } = await setup([1, 2, 3, 4, 5].map((n) => finding(n)));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await listFindings(ctx, { org: ORG, severity: 'medium', limit: 2, cursor }, deps);
      seen.push(...r.items.map((f) => f.pluginId));
      cursor = r.next ?? undefined;
      pages++;
    } while (cursor !== undefined);
    assert.deepEqual(seen, ['1', '2', '3', '4', '5']);
    assert.equal(pages, 3);

    const first = await listFindings(ctx, { org: ORG, limit: 2 }, deps);
    assert.ok(first.next);
    const readsBefore = reads(log).length;
    // The same cursor with other filters, for another org, or made up: invalid_cursor, nothing read.
    for (const req of [
      { org: ORG, severity: 'high', limit: 2, cursor: first.next },
      { org: 'org-b', limit: 2, cursor: first.next },
      { org: ORG, limit: 2, cursor: Buffer.from('q1:AAAAAAAAAAAA:1').toString('base64url') },
    ]) {
      await assert.rejects(listFindings(ctx, req, deps), isVaultError('invalid_cursor'));
    }
    assert.equal(reads(log).length, readsBefore);
  });

  it('takes its cursor keys from its deps: a cursor made under another secret is refused, nothing read', async () => {
    const { ctx, deps, log } = await setup([1, 2, 3].map((n) => finding(n)));
    const other = { ...deps, cursors: testCursorKeys() };
    const first = await listFindings(ctx, { org: ORG, limit: 1 }, other);
    assert.ok(first.next);
    const readsBefore = reads(log).length;
    await assert.rejects(
      listFindings(ctx, { org: ORG, limit: 1, cursor: first.next }, deps),
      isVaultError('invalid_cursor'),
    );
    assert.equal(reads(log).length, readsBefore);
    // The previous secret of a rotation is still accepted.
    const rotated = { ...deps, cursors: testCursorKeys([other.cursors.keys().current]) };
    const second = await listFindings(ctx, { org: ORG, limit: 1, cursor: first.next }, rotated);
    assert.deepEqual(
      second.items.map((f) => f.pluginId),
      ['2'],
    );
  });

  it("binds the cursor to the caller's principal type: a token client cannot page on with an OU's cursor", async () => {
    const { ctx, deps, log } = await setup([1, 2, 3].map((n) => finding(n)));
    const first = await listFindings(ctx, { org: ORG, limit: 1 }, deps);
    assert.ok(first.next);
    const readsBefore = reads(log).length;
    for (const type of ['client', 'iam'] as const) {
      const as = { ...ctx, principal: { ...ctx.principal, ref: { type, name: 'readers' } } };
      await assert.rejects(
        listFindings(as, { org: ORG, limit: 1, cursor: first.next }, deps),
        isVaultError('invalid_cursor'),
      );
    }
    assert.equal(reads(log).length, readsBefore);
  });
});

describe('getFinding', () => {
  it('returns one finding with its sealed fields, after authorize', async () => {
    const { ctx, deps, log, store } = await setup([finding(7)]);
    const [row] = store.rows(ORG);
    assert.ok(row);
    const f = await getFinding(ctx, { org: ORG, id: row.id }, deps);
    assert.equal(f.evidence, 'evidence 7');
    assert.ok(!('seq' in f));
    assert.deepEqual(log.slice(0, 3), [
      `authorize findings:read ${ORG}`,
      `audit.authz allow ${ORG}`,
      `reader.getFinding ${ORG}`,
    ]);
  });

  it('answers not_found for an id of another org or no id at all, recording a read of nothing', async () => {
    const { ctx, deps, store, audit } = await setup([finding(1)]);
    const [other] = store.rows('org-b');
    assert.ok(other);
    for (const id of [other.id, 'no-such-id']) {
      await assert.rejects(getFinding(ctx, { org: ORG, id }, deps), isVaultError('not_found'));
    }
    assert.deepEqual(
      audit.dataAccessEvents.map((e) => [e.org, e.count]),
      [
        [ORG, 0],
        [ORG, 0],
      ],
    );
  });

  it('reads nothing for an org it may not read', async () => {
    const { ctx, deps, store, log } = await setup([finding(1)]);
    const [other] = store.rows('org-b');
    await assert.rejects(
      getFinding(ctx, { org: 'org-b', id: other?.id ?? '' }, deps),
      isVaultError('forbidden'),
    );
    assert.deepEqual(reads(log), []);
  });
});

describe('getSummary', () => {
  it('summarises the org after authorize and records how many findings it counted', async () => {
    const { ctx, deps, audit } = await setup([
      finding(1, { severity: 'high' }),
      finding(2, { severity: 'high' }),
    ]);
    const s = await getSummary(ctx, { org: ORG, top: 5 }, deps);
    assert.deepEqual(s.bySeverityStatus, [{ severity: 'high', status: 'open', count: 2 }]);
    assert.deepEqual(s.topAssets, [{ asset: 'h1', open: 2 }]);
    assert.equal(audit.dataAccessEvents[0]?.count, 2);
  });
});
