// DynamoDB-only behaviour of triage, beyond the shared contract: a person's
// analysis written while a scan import is staging survives the import's
// commit; a bulk change over more findings than one transaction holds is
// committed at once, and one that cannot commit leaves nothing (no analysis,
// no history, ETags unmoved); a triage item held by a live bulk refuses other
// changes, and is taken over once that bulk's deadline has passed; the asset
// and severity prefilters still see triage items.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoTables } from '../../src/adapters/dynamodb/client.js';
import { createDynamoFindingsReader } from '../../src/adapters/dynamodb/findings-reader.js';
import { createDynamoFindingsWriter } from '../../src/adapters/dynamodb/findings-writer.js';
import { markerKey, orgPk, triageSk } from '../../src/adapters/dynamodb/keys.js';
import { createDynamoTriageStore } from '../../src/adapters/dynamodb/triage-store.js';
import { VaultError } from '../../src/core/errors.js';
import { newFinding, type ScannedFinding } from '../../src/core/finding.js';
import type { Finding, FindingFilter, FindingsReader } from '../../src/core/ports.js';
import type { TriageChange } from '../../src/core/triage.js';
import { startDynamoLocal, type DynamoLocal } from '../helpers/dynamodb-local.js';

const finding = (n: number, over: Partial<ScannedFinding> = {}): ScannedFinding =>
  newFinding({
    asset: n % 2 === 0 ? 'h2' : 'h1',
    scanner: 'nessus',
    pluginId: String(n),
    title: `F${n}`,
    severity: 'high',
    severityRaw: '3',
    ...over,
  });

const covered = [
  { scanner: 'nessus', asset: 'h1', category: '' },
  { scanner: 'nessus', asset: 'h2', category: '' },
];

const meta = (org: string) => ({
  scanId: randomUUID(),
  org,
  format: 'native',
  principal: 't',
  startedAt: new Date().toISOString(),
});

const change = (over: Partial<TriageChange> = {}): TriageChange => ({
  state: 'false_positive',
  justification: null,
  response: [],
  comment: '',
  expiresAt: null,
  ...over,
});

const who = () => ({ by: 'ou:customer', at: new Date().toISOString() });

async function all(r: FindingsReader, org: string, filter: FindingFilter = {}) {
  const out: Finding[] = [];
  let afterSeq = 0;
  for (;;) {
    const p = await r.queryFindings(org, filter, afterSeq, 100);
    out.push(...p.items);
    if (p.lastSeq === undefined) return out;
    afterSeq = p.lastSeq;
  }
}

describe('dynamodb triage: staging and prefilters', () => {
  let ddb: DynamoLocal;
  let t: DynamoTables;
  before(async () => {
    ddb = await startDynamoLocal();
    t = await ddb.newTables();
  });
  after(async () => {
    await ddb.stop();
  });

  it("keeps a person's analysis set while an import was staging, and the import's change", async () => {
    const org = `org-${randomUUID().slice(0, 8)}`;
    const writer = createDynamoFindingsWriter(ddb.doc, t.findings);
    const reader = createDynamoFindingsReader(ddb.doc, t.findings);
    const triage = createDynamoTriageStore(ddb.doc, t.findings);
    let imp = await writer.beginScanImport(meta(org));
    await imp.stage([finding(1)], covered);
    await imp.commit(1);
    const [f] = await all(reader, org);
    assert.ok(f);
    imp = await writer.beginScanImport(meta(org));
    await imp.stage([finding(1, { title: 'F1 v2' })], covered);
    // The import's version is staged: the person works on the committed one.
    const r = await triage.setAnalysis(org, f.id, change(), { ...who(), ifRev: f.rev });
    await imp.commit(1);
    const g = await reader.getFinding(org, f.id);
    assert.equal(g?.title, 'F1 v2');
    assert.equal(g?.triage?.state, 'false_positive');
    assert.equal(g?.rev, r.rev + 1, "the import's update moves the ETag on");
    await assert.rejects(
      triage.setAnalysis(org, f.id, change({ state: 'exploitable' }), { ...who(), ifRev: r.rev }),
      (e) => e instanceof VaultError && e.code === 'precondition_failed',
    );
  });

  it('commits a 250-finding bulk change at once, and leaves nothing of one that cannot commit', async () => {
    const org = `org-${randomUUID().slice(0, 8)}`;
    const writer = createDynamoFindingsWriter(ddb.doc, t.findings);
    const reader = createDynamoFindingsReader(ddb.doc, t.findings);
    const imp = await writer.beginScanImport(meta(org));
    await imp.stage(
      Array.from({ length: 250 }, (_, i) => finding(i + 1)),
      covered,
    );
    await imp.commit(250);
    const before = await all(reader, org);
    // A window already over: staged, never committed.
    const late = createDynamoTriageStore(ddb.doc, t.findings, { bulkWindowMs: -1 });
    await assert.rejects(
      late.bulkSetAnalysis(org, { filter: {} }, change(), { ...who(), max: 10_000 }),
      (e) => e instanceof VaultError && e.code === 'store_unavailable',
    );
    const untouched = await all(reader, org);
    assert.deepEqual(
      untouched.map((f) => [f.triage, f.rev]),
      before.map((f) => [null, f.rev]),
    );
    const h = await reader.history(org, before[0]?.id ?? '', null, 10);
    assert.deepEqual(
      h?.items.map((e) => e.kind),
      ['opened'],
    );
    // The same change within its window: all 250, from a triage item left
    // staged by the failed one.
    const triage = createDynamoTriageStore(ddb.doc, t.findings);
    const r = await triage.bulkSetAnalysis(
      org,
      { ids: before.map((f) => f.id) },
      change({ state: 'risk_accepted', expiresAt: '2099-01-01T00:00:00.000Z' }),
      { ...who(), max: 10_000 },
    );
    assert.equal(r.changes.length, 250);
    const done = await all(reader, org, { analysis: ['risk_accepted'] });
    assert.equal(done.length, 250);
    assert.ok(done.every((f, i) => f.rev === (before[i]?.rev ?? 0) + 1));
    assert.equal((await all(reader, org, { active: true })).length, 0);
    assert.equal(await triage.sweepExpired('2098-12-31T23:59:59.999Z'), 0);
    assert.equal(await triage.sweepExpired('2099-01-01T00:00:00.000Z'), 250);
    assert.equal((await all(reader, org, { analysis: ['in_triage'] })).length, 250);
  });

  it('refuses to change a finding a live bulk change holds, and takes it over after its deadline', async () => {
    const org = `org-${randomUUID().slice(0, 8)}`;
    const writer = createDynamoFindingsWriter(ddb.doc, t.findings);
    const reader = createDynamoFindingsReader(ddb.doc, t.findings);
    const triage = createDynamoTriageStore(ddb.doc, t.findings);
    const imp = await writer.beginScanImport(meta(org));
    await imp.stage([finding(1)], covered);
    await imp.commit(1);
    const [f] = await all(reader, org);
    assert.ok(f);
    // A bulk change that "died" after staging this finding's triage item.
    const dead = randomUUID();
    await ddb.doc.send(
      new PutCommand({
        TableName: t.findings,
        Item: { ...markerKey(dead), state: 'staging', deadline: Date.now() + 60_000 },
      }),
    );
    await ddb.doc.send(
      new PutCommand({
        TableName: t.findings,
        Item: {
          pk: orgPk(org),
          sk: triageSk(f.seq),
          kind: 'T',
          seq: f.seq,
          triage: null,
          trev: 0,
          stg: { imp: dead, triage: { ...change(), ...who() }, trev: 1 },
        },
      }),
    );
    assert.equal((await reader.getFinding(org, f.id))?.triage, null, 'staged: not visible');
    await assert.rejects(
      triage.setAnalysis(org, f.id, change({ state: 'exploitable' }), { ...who(), ifRev: f.rev }),
      (e) => e instanceof VaultError && e.code === 'store_unavailable',
    );
    await ddb.doc.send(
      new UpdateCommand({
        TableName: t.findings,
        Key: markerKey(dead),
        UpdateExpression: 'SET #d = :past',
        ExpressionAttributeNames: { '#d': 'deadline' },
        ExpressionAttributeValues: { ':past': Date.now() - 1 },
      }),
    );
    const r = await triage.setAnalysis(org, f.id, change({ state: 'exploitable' }), {
      ...who(),
      ifRev: f.rev,
    });
    assert.equal(r.rev, f.rev + 1);
    assert.equal((await reader.getFinding(org, f.id))?.triage?.state, 'exploitable');
  });

  it('sees triage items through the asset index and the severity prefilter', async () => {
    const org = `org-${randomUUID().slice(0, 8)}`;
    const writer = createDynamoFindingsWriter(ddb.doc, t.findings);
    const reader = createDynamoFindingsReader(ddb.doc, t.findings);
    const triage = createDynamoTriageStore(ddb.doc, t.findings);
    const imp = await writer.beginScanImport(meta(org));
    await imp.stage(
      [1, 2, 3, 4].map((n) => finding(n, { severity: n <= 2 ? 'high' : 'low' })),
      covered,
    );
    await imp.commit(4);
    const fs = await all(reader, org);
    for (const f of fs) {
      if (f.pluginId === '1' || f.pluginId === '4') {
        await triage.setAnalysis(org, f.id, change(), { ...who(), ifRev: f.rev });
      }
    }
    const ids = async (filter: FindingFilter) =>
      (await all(reader, org, filter)).map((f) => f.pluginId);
    assert.deepEqual(await ids({ asset: 'h1', analysis: ['false_positive'] }), ['1']);
    assert.deepEqual(await ids({ asset: 'h2', active: true }), ['2']);
    assert.deepEqual(await ids({ severity: ['low'], analysis: ['false_positive'] }), ['4']);
    assert.deepEqual(await ids({ severity: ['high'], active: true }), ['2']);
    const h1 = await all(reader, org, { asset: 'h1' });
    assert.deepEqual(
      h1.map((f) => [f.pluginId, f.triage?.state ?? null]),
      [
        ['1', 'false_positive'],
        ['3', null],
      ],
    );
  });
});
