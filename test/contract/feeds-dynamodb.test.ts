// The FeedStore contract on the real DynamoDB Local (Java, in memory, on a
// free loopback port), the feeds table created from table-design.ts; then
// what only the generation scheme has to show: after a switch the old
// generation's rows are deleted, and a failed import leaves none of its own.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDynamoFeedStore } from '../../src/adapters/dynamodb/feed-store.js';
import type { EpssScore } from '../../src/core/feeds.js';
import { startDynamoLocal, type DynamoLocal } from '../helpers/dynamodb-local.js';
import { feedContract } from './feed-contract.js';

feedContract('dynamodb', async (now) => {
  const ddb = await startDynamoLocal();
  const t = await ddb.newTables();
  return {
    store: createDynamoFeedStore(ddb.doc, t.feeds, { now }),
    reader: createDynamoFeedStore(ddb.doc, t.feeds, { now }),
    close: () => ddb.stop(),
  };
});

describe('FeedStore on DynamoDB: generations', () => {
  let ddb: DynamoLocal;
  let table: string;
  before(async () => {
    ddb = await startDynamoLocal();
    table = (await ddb.newTables()).feeds;
  });
  after(() => ddb.stop());

  const rows = (n: number, year: number): EpssScore[] =>
    Array.from({ length: n }, (_, i) => ({
      cve: `CVE-${year}-${10_000 + i}`,
      epss: 0.1,
      percentile: 0.2,
    }));
  const src = (version: string) => ({ version, date: '2026-10-01', sha256: () => '0'.repeat(64) });

  async function items(): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await ddb.doc.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
      out.push(...(r.Items ?? []));
      start = r.LastEvaluatedKey;
    } while (start);
    return out;
  }

  it('deletes the previous generation once the pointer has switched', async () => {
    const store = createDynamoFeedStore(ddb.doc, table);
    await store.importEpss(rows(300, 2031), src('v1/a'));
    await store.importEpss(rows(200, 2032), src('v2/b'));
    const all = await items();
    const data = all.filter((i) => !String(i.pk).startsWith('FEED#'));
    assert.equal(data.length, 200);
    assert.ok(data.every((i) => String(i.sk).startsWith('CVE-2032-')));
    // One pointer, one live registry item: the retired one is gone.
    const control = all.filter((i) => String(i.pk).startsWith('FEED#'));
    assert.deepEqual(
      control.map((i) => [i.sk === 'CURRENT' ? 'CURRENT' : 'GEN', i.state ?? null]).sort(),
      [
        ['CURRENT', null],
        ['GEN', 'live'],
      ],
    );
    // The rows spread over many partitions.
    assert.ok(new Set(data.map((i) => i.pk)).size > 32);
  });

  it('leaves no rows of a failed import behind, and the live feed intact', async () => {
    const store = createDynamoFeedStore(ddb.doc, table);
    async function* bad(): AsyncGenerator<EpssScore> {
      yield* rows(1500, 2033);
      throw new Error('line 1503: bad');
    }
    await assert.rejects(store.importEpss(bad(), src('v3/c')), /line 1503: bad/);
    const data = (await items()).filter((i) => !String(i.pk).startsWith('FEED#'));
    assert.equal(data.length, 200);
    assert.ok(data.every((i) => String(i.sk).startsWith('CVE-2032-')));
    assert.equal((await store.status())[0]?.version, 'v2/b');
  });
});
