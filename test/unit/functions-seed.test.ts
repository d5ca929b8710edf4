// The seed routes' functions (src/functions/seed) over in-memory ports: GET
// /vuln in the demo's shape with org-bound cursors, POST /vuln all or nothing,
// authorize for every org of a batch, Idempotency-Key replay.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { newFinding } from '../../src/core/finding.js';
import type { SeedRecord } from '../../src/core/seed-record.js';
import { getVuln, type GetVulnDeps } from '../../src/functions/seed/get-vuln.js';
import { postVuln, type PostVulnDeps } from '../../src/functions/seed/post-vuln.js';
import {
  callContext,
  isVaultError,
  loggedAuthorize,
  MemoryAudit,
  MemoryIdempotency,
  MemoryPolicies,
  spyReader,
  spyWriter,
  testCursorKeys,
  type CallLog,
} from '../helpers/fake-ports.js';
import { createMemoryStore } from '../helpers/memory-store.js';

const record = (n: number, over: Partial<SeedRecord> = {}): SeedRecord => ({
  VulnID: `V-${n}`,
  Org: 'org-a',
  AssetName: `host-${n}`,
  DueDate: '12-31-2026',
  PluginId: 1000 + n,
  PluginName: `Plugin ${n}`,
  Priority: 'P1',
  ...over,
});

function setup(grants: { action: 'findings:read' | 'findings:write'; org: string }[]) {
  const log: CallLog = [];
  const store = createMemoryStore();
  const ctx = callContext('seeders');
  const policies = new MemoryPolicies();
  for (const g of grants) policies.grant({ principal: ctx.principal.ref, ...g });
  const audit = new MemoryAudit(log);
  const authorize = loggedAuthorize(policies, audit, log);
  const idempotency = new MemoryIdempotency(log);
  const post: PostVulnDeps = {
    authorize,
    writer: spyWriter(store.writer, log),
    audit,
    idempotency,
  };
  const get: GetVulnDeps = {
    authorize,
    reader: spyReader(store.reader, log),
    audit,
    cursors: testCursorKeys(),
  };
  return { ctx, log, store, audit, post, get };
}

const writes = (log: CallLog) => log.filter((l) => l.startsWith('writer.'));
const reads = (log: CallLog) => log.filter((l) => l.startsWith('reader.'));

describe('getVuln', () => {
  it("returns an org's seed records in the demo's shape, and no scan finding", async () => {
    const { ctx, store, get } = setup([{ action: 'findings:read', org: 'org-a' }]);
    await store.writer.insertSeedBatch([
      {
        vulnId: 'V-1',
        org: 'org-a',
        asset: 'db1',
        dueDate: '2026-03-01',
        pluginId: '19506',
        title: 'Nessus Scan Information',
        priority: 'P3',
      },
    ]);
    // A scanned finding (its rule id is not a number, it has no due date):
    // it does not fit this shape and is not listed.
    const imp = await store.writer.beginScanImport({
      scanId: randomUUID(),
      org: 'org-a',
      format: 'sarif',
      principal: 't',
      startedAt: new Date().toISOString(),
    });
    await imp.stage(
      [
        newFinding({
          asset: 'repo',
          scanner: 'semgrep',
          pluginId: 'js.eval',
          port: 0,
          protocol: '',
          title: 'eval',
          severity: 'high',
          severityRaw: 'error',
          cvss3Score: null,
          cvss3Vector: null,
          cvss2Score: null,
          cvss2Vector: null,
          cves: [],
          description: '',
          solution: '',
          evidence: '',
          service: '',
        }),
      ],
      [],
    );
    await imp.commit(1);
    const page = await getVuln(ctx, { org: 'org-a', limit: 10 }, get);
    assert.equal(page.items.length, 1);
    assert.deepEqual(page.items[0], {
      VulnID: 'V-1',
      Org: 'org-a',
      AssetName: 'db1',
      DueDate: '03-01-2026',
      PluginId: 19506,
      PluginName: 'Nessus Scan Information',
      Priority: 'P3',
    });
    assert.equal(page.next, null);
  });

  it('pages with a cursor that no other org accepts, checked before anything is read', async () => {
    const { ctx, store, get, log } = setup([
      { action: 'findings:read', org: 'org-a' },
      { action: 'findings:read', org: 'org-b' },
    ]);
    await store.writer.insertSeedBatch(
      [1, 2, 3].map((n) => ({
        vulnId: `V-${n}`,
        org: 'org-a',
        asset: 'a',
        dueDate: '2026-12-31',
        pluginId: String(n),
        title: 't',
        priority: 'P1',
      })),
    );
    const p1 = await getVuln(ctx, { org: 'org-a', limit: 2 }, get);
    assert.ok(p1.next);
    const p2 = await getVuln(ctx, { org: 'org-a', limit: 2, cursor: p1.next }, get);
    assert.deepEqual(
      [...p1.items, ...p2.items].map((i) => i.VulnID),
      ['V-1', 'V-2', 'V-3'],
    );
    assert.equal(p2.next, null);
    const before = log.length;
    for (const cursor of [p1.next, 'not-a-cursor']) {
      await assert.rejects(
        getVuln(ctx, { org: 'org-b', limit: 2, cursor }, get),
        isVaultError('invalid_cursor'),
      );
    }
    // Refused before authorize, so nothing was read or logged.
    assert.deepEqual(log.slice(before), []);
  });

  it('refuses a cursor made under another secret or for another principal type', async () => {
    const { ctx, store, get, log } = setup([{ action: 'findings:read', org: 'org-a' }]);
    await store.writer.insertSeedBatch(
      [1, 2].map((n) => ({
        vulnId: `V-${n}`,
        org: 'org-a',
        asset: 'a',
        dueDate: '2026-12-31',
        pluginId: String(n),
        title: 't',
        priority: 'P1',
      })),
    );
    const forged = await getVuln(
      ctx,
      { org: 'org-a', limit: 1 },
      { ...get, cursors: testCursorKeys() },
    );
    const own = await getVuln(ctx, { org: 'org-a', limit: 1 }, get);
    const asClient = {
      ...ctx,
      principal: { ...ctx.principal, ref: { type: 'client' as const, name: 'seeders' } },
    };
    const before = log.length;
    for (const [who, cursor] of [
      [ctx, forged.next],
      [asClient, own.next],
    ] as const) {
      await assert.rejects(
        getVuln(who, { org: 'org-a', limit: 1, cursor: cursor ?? undefined }, get),
        isVaultError('invalid_cursor'),
      );
    }
    assert.deepEqual(log.slice(before), []);
    const next = await getVuln(ctx, { org: 'org-a', limit: 1, cursor: own.next ?? undefined }, get);
    assert.deepEqual(
      next.items.map((i) => i.VulnID),
      ['V-2'],
    );
  });

  it('reads nothing for an org it may not read, and records each read it makes', async () => {
    const { ctx, get, log, audit } = setup([{ action: 'findings:read', org: 'org-a' }]);
    await assert.rejects(getVuln(ctx, { org: 'org-b', limit: 10 }, get), isVaultError('forbidden'));
    assert.deepEqual(reads(log), []);
    assert.equal(audit.dataAccessEvents.length, 0);
    await getVuln(ctx, { org: 'org-a', limit: 10 }, get);
    assert.deepEqual(
      audit.dataAccessEvents.map((e) => [e.action, e.org, e.count]),
      [['findings:read', 'org-a', 0]],
    );
  });
});

describe('postVuln', () => {
  const both = [
    { action: 'findings:write' as const, org: 'org-a' },
    { action: 'findings:write' as const, org: 'org-b' },
  ];

  it('stores a batch across orgs and records one write per org', async () => {
    const { ctx, post, store, audit } = setup(both);
    const r = await postVuln(ctx, [record(1), record(2, { Org: 'org-b' }), record(3)], post);
    assert.deepEqual(r, { status: 201, body: { stored: 3 }, replayed: false });
    assert.deepEqual(
      store.rows('org-a').map((x) => [x.vulnId, x.asset, x.dueDate, x.pluginId, x.title]),
      [
        ['V-1', 'host-1', '2026-12-31', '1001', 'Plugin 1'],
        ['V-3', 'host-3', '2026-12-31', '1003', 'Plugin 3'],
      ],
    );
    assert.deepEqual(
      audit.dataAccessEvents.map((e) => [e.action, e.org, e.count]),
      [
        ['findings:write', 'org-a', 2],
        ['findings:write', 'org-b', 1],
      ],
    );
  });

  it('refuses a VulnID twice in one batch for its org, storing nothing', async () => {
    const { ctx, post, store, log } = setup(both);
    await assert.rejects(
      postVuln(ctx, [record(1), record(2), record(1, { AssetName: 'other' })], post),
      (e: Error) => isVaultError('duplicate_in_batch')(e) && /^record 2:/.test(e.message),
    );
    assert.deepEqual(writes(log), []);
    assert.deepEqual(store.rows('org-a'), []);
    // The same VulnID in two orgs is two records.
    await postVuln(ctx, [record(1), record(1, { Org: 'org-b' })], post);
    assert.equal(store.rows('org-b').length, 1);
  });

  it('asks authorize for every org of the batch and stores nothing if one is refused', async () => {
    const { ctx, post, store, log, audit } = setup([{ action: 'findings:write', org: 'org-a' }]);
    await assert.rejects(
      postVuln(ctx, [record(1), record(2, { Org: 'org-b' })], post),
      isVaultError('forbidden'),
    );
    assert.ok(log.includes('authorize findings:write org-a,org-b'));
    assert.deepEqual(
      audit.authzEvents.map((e) => [e.org, e.decision]),
      [
        ['org-a', 'allow'],
        ['org-b', 'deny'],
      ],
    );
    assert.deepEqual(writes(log), []);
    assert.deepEqual(store.rows('org-a'), []);
  });

  it('refuses a date that is not on the calendar, storing nothing', async () => {
    const { ctx, post, log } = setup(both);
    await assert.rejects(
      postVuln(ctx, [record(1, { DueDate: '02-30-2026' })], post),
      isVaultError('invalid_date'),
    );
    assert.deepEqual(writes(log), []);
  });

  it('replays the first response for the same Idempotency-Key and body, storing once', async () => {
    const { ctx, post, store, log } = setup(both);
    const first = await postVuln(ctx, [record(1)], post, 'key-1');
    const again = await postVuln(ctx, [record(1)], post, 'key-1');
    assert.deepEqual(again, { ...first, replayed: true });
    assert.deepEqual(writes(log), ['writer.insertSeedBatch 1']);
    assert.equal(store.rows('org-a').length, 1);
    // Another caller's same key is its own.
    const other = await postVuln(
      callContext('others'),
      [record(9)],
      {
        ...post,
        authorize: async () => {},
      },
      'key-1',
    );
    assert.equal(other.replayed, false);
  });

  it('refuses the same key with another body (422), storing nothing more', async () => {
    const { ctx, post, store } = setup(both);
    await postVuln(ctx, [record(1)], post, 'key-1');
    await assert.rejects(
      postVuln(ctx, [record(2)], post, 'key-1'),
      isVaultError('idempotency_key_reused'),
    );
    assert.deepEqual(
      store.rows('org-a').map((r) => r.vulnId),
      ['V-1'],
    );
  });

  it('frees the key of a failed request, so it can be retried', async () => {
    const { ctx, post, store } = setup(both);
    await postVuln(ctx, [record(1)], post);
    await assert.rejects(postVuln(ctx, [record(1)], post, 'key-2'), isVaultError('vuln_exists'));
    const retry = await postVuln(ctx, [record(2)], post, 'key-2');
    assert.equal(retry.replayed, false);
    assert.equal(store.rows('org-a').length, 2);
  });
});
