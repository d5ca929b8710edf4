// DynamoDB-only behaviour of staged batches, beyond the shared contract: what
// a crash (an import that never commits or aborts) leaves behind, and how the
// next writer fences and takes over what a dead batch held.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoTables } from '../../src/adapters/dynamodb/client.js';
import { createDynamoFindingsReader } from '../../src/adapters/dynamodb/findings-reader.js';
import { createDynamoFindingsWriter } from '../../src/adapters/dynamodb/findings-writer.js';
import {
  findingSk,
  LOCK_SK,
  markerKey,
  orgPk,
  vulnIdSk,
} from '../../src/adapters/dynamodb/keys.js';
import { VaultError } from '../../src/core/errors.js';
import { newFinding, type ScannedFinding } from '../../src/core/finding.js';
import { startDynamoLocal, type DynamoLocal } from '../helpers/dynamodb-local.js';

const finding = (n: number, title = `F${n}`): ScannedFinding =>
  newFinding({
    asset: 'h1',
    scanner: 'nessus',
    pluginId: String(n),
    port: 0,
    protocol: 'tcp',
    title,
    severity: 'high',
    severityRaw: '3',
    cvss3Score: null,
    cvss3Vector: null,
    cvss2Score: null,
    cvss2Vector: null,
    cves: [],
    description: '',
    solution: '',
    evidence: '',
    service: '',
  });

const meta = (org: string) => ({
  scanId: randomUUID(),
  org,
  format: 'native',
  principal: 't',
  startedAt: new Date().toISOString(),
});

describe('dynamodb staged batches after a crash', () => {
  let ddb: DynamoLocal;
  let t: DynamoTables;
  before(async () => {
    ddb = await startDynamoLocal();
    t = await ddb.newTables();
  });
  after(async () => {
    await ddb.stop();
  });

  it('shows nothing of an import that never committed, and fences it once its lease ran out', async () => {
    const org = `org-${randomUUID().slice(0, 8)}`;
    const writer = createDynamoFindingsWriter(ddb.doc, t.findings);
    const reader = createDynamoFindingsReader(ddb.doc, t.findings);
    const first = await writer.beginScanImport(meta(org));
    await first.stage([finding(1)], [{ scanner: 'nessus', asset: 'h1', category: '' }]);
    await first.commit(1);

    const crashed = await writer.beginScanImport(meta(org));
    await crashed.stage(
      Array.from({ length: 150 }, (_, i) => finding(i + 1, 'crashed')),
      [{ scanner: 'nessus', asset: 'h1', category: '' }],
    );
    // The process "dies" here: no commit, no abort.
    const visible = (await reader.queryFindings(org, {}, 0, 1000)).items;
    assert.deepEqual(
      visible.map((f) => [f.pluginId, f.title]),
      [['1', 'F1']],
    );
    // Its lease expires (simulated: 15 minutes are too long for a test).
    await ddb.doc.send(
      new UpdateCommand({
        TableName: t.findings,
        Key: { pk: orgPk(org), sk: LOCK_SK },
        UpdateExpression: 'SET #u = :past',
        ExpressionAttributeNames: { '#u': 'until' },
        ExpressionAttributeValues: { ':past': Date.now() - 1 },
      }),
    );
    const next = await writer.beginScanImport(meta(org));
    await next.stage([finding(1), finding(2)], [{ scanner: 'nessus', asset: 'h1', category: '' }]);
    assert.deepEqual(await next.commit(2), {
      new: 1,
      updated: 0,
      unchanged: 1,
      fixed: 0,
      reopened: 0,
    });
    // The dead import can never commit now: the lock is no longer its own.
    await assert.rejects(
      crashed.commit(150),
      (e) => e instanceof VaultError && e.code === 'store_unavailable',
    );
    assert.deepEqual(
      (await reader.queryFindings(org, {}, 0, 1000)).items.map((f) => [f.pluginId, f.title]),
      [
        ['1', 'F1'],
        ['2', 'F2'],
      ],
    );
  });

  it('takes over a VulnID claim of a seed batch that died, after fencing its marker', async () => {
    const org = `org-${randomUUID().slice(0, 8)}`;
    const writer = createDynamoFindingsWriter(ddb.doc, t.findings);
    const reader = createDynamoFindingsReader(ddb.doc, t.findings);
    const dead = randomUUID();
    const live = randomUUID();
    const put = (Item: Record<string, unknown>) =>
      ddb.doc.send(new PutCommand({ TableName: t.findings, Item }));
    await put({ ...markerKey(dead), state: 'staging', deadline: Date.now() - 1000 });
    await put({ pk: orgPk(org), sk: vulnIdSk('V-DEAD'), seq: 99, pend: dead });
    await put({ ...markerKey(live), state: 'staging', deadline: Date.now() + 60_000 });
    await put({ pk: orgPk(org), sk: vulnIdSk('V-LIVE'), seq: 98, pend: live });
    const rec = (vulnId: string) => ({
      vulnId,
      org,
      asset: 'a',
      dueDate: '2026-12-31',
      pluginId: '1',
      title: 't',
      priority: 'P1',
    });
    assert.deepEqual(await writer.insertSeedBatch([rec('V-DEAD')]), { stored: 1 });
    const marker = await ddb.doc.send(
      new GetCommand({ TableName: t.findings, Key: markerKey(dead), ConsistentRead: true }),
    );
    assert.equal(marker.Item?.state, 'aborted');
    // A batch still within its deadline is not overridden: retry later (503).
    await assert.rejects(
      writer.insertSeedBatch([rec('V-NEW'), rec('V-LIVE')]),
      (e) => e instanceof VaultError && e.code === 'store_unavailable',
    );
    assert.deepEqual(
      (await reader.listSeedRecords(org, 0, 10)).items.map((i) => i.vulnId),
      ['V-DEAD'],
    );
  });

  it('ignores a contentHash left on items by earlier versions, and drops it on rewrite', async () => {
    const org = `org-${randomUUID().slice(0, 8)}`;
    const writer = createDynamoFindingsWriter(ddb.doc, t.findings);
    const reader = createDynamoFindingsReader(ddb.doc, t.findings);
    const run = async (fs: ScannedFinding[]) => {
      const imp = await writer.beginScanImport(meta(org));
      await imp.stage(fs, [{ scanner: 'nessus', asset: 'h1', category: '' }]);
      return imp.commit(fs.length);
    };
    await run([finding(1), finding(2)]);
    const [f1, f2] = (await reader.queryFindings(org, {}, 0, 10)).items;
    const key = (seq: number) => ({ pk: orgPk(org), sk: findingSk(seq) });
    // Hashes that match nothing: only comparing content can call these unchanged.
    for (const f of [f1, f2]) {
      await ddb.doc.send(
        new UpdateCommand({
          TableName: t.findings,
          Key: key(f?.seq ?? 0),
          UpdateExpression: 'SET contentHash = :h',
          ExpressionAttributeValues: { ':h': 'stale-hash-from-an-earlier-version' },
        }),
      );
    }
    assert.deepEqual(await run([finding(1), finding(2, 'changed')]), {
      new: 0,
      updated: 1,
      unchanged: 1,
      fixed: 0,
      reopened: 0,
    });
    for (const f of [f1, f2]) {
      const got = await ddb.doc.send(
        new GetCommand({ TableName: t.findings, Key: key(f?.seq ?? 0), ConsistentRead: true }),
      );
      assert.equal(got.Item?.contentHash, undefined);
      assert.equal(got.Item?.stg?.contentHash, undefined);
    }
  });
});
