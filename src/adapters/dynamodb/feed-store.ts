// The FeedStore on DynamoDB. One transaction cannot hold 300,000 items, so an
// import writes a new *generation* beside the live one and switches a pointer
// last; readers read the pointer, then only that generation's items:
//
//   pk "FEED#<feed>"  sk "CURRENT"    pointer: generation, version, date, count, sha256, importedAt
//                     sk "GEN#<id>"   registry: writing | live | retired, startedAt
//   pk "<feed>#<id>#<shard>" sk <CVE>  a row (shard = hash(CVE) mod 64: writes
//                                       and deletes spread over 64 partitions)
//
// import: register GEN#new (writing) → BatchWrite every row → one transaction:
// pointer := new (on condition that it still names the generation read at the
// start: a concurrent import cannot be overwritten unnoticed), GEN#new live,
// GEN#old retired → delete retired generations' rows (and writing ones older
// than a day: left by a crashed import). A failed import deletes what it
// wrote; if even that fails, its registry item lets a later import finish
// the job. Until the switch, readers see only the old generation.

import { randomBytes } from 'node:crypto';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type {
  CvePriority,
  EpssScore,
  FeedName,
  FeedSource,
  FeedStatus,
  FeedStore,
  KevEntry,
} from '../../core/feeds.js';
import { FEED_NAMES } from '../../core/feeds.js';
import {
  batchGet,
  batchWrite,
  isConditionFailure,
  mapLimit,
  storeError,
  type Item,
} from './client.js';

export const FEED_SHARDS = 64;
/** Rows buffered before a BatchWrite round (25 per request, 8 in flight). */
const WRITE_BATCH = 1000;
/** A generation still "writing" after this long was left by a crashed import. */
const STALE_WRITING_MS = 24 * 3600 * 1000;

const controlPk = (feed: FeedName) => `FEED#${feed}`;
const CURRENT = 'CURRENT';
const genSk = (gen: string) => `GEN#${gen}`;

/** FNV-1a: a cheap, stable spread of CVE ids over the shards. */
export function shardOf(cve: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < cve.length; i++) {
    h ^= cve.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % FEED_SHARDS;
}
const rowPk = (feed: FeedName, gen: string, shard: number) =>
  `${feed}#${gen}#${String(shard).padStart(2, '0')}`;
const rowKey = (feed: FeedName, gen: string, cve: string) => ({
  pk: rowPk(feed, gen, shardOf(cve)),
  sk: cve,
});

interface Pointer extends Omit<FeedStatus, 'name'> {
  generation: string;
}

export function createDynamoFeedStore(
  doc: DynamoDBDocumentClient,
  table: string,
  options: { now?: () => Date } = {},
): FeedStore {
  const now = options.now ?? (() => new Date());

  /** SDK calls: their failures are store_unavailable. */
  async function store<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw storeError(err);
    }
  }

  async function pointer(feed: FeedName): Promise<Pointer | undefined> {
    const r = await doc.send(
      new GetCommand({
        TableName: table,
        Key: { pk: controlPk(feed), sk: CURRENT },
        ConsistentRead: true,
      }),
    );
    return r.Item as Pointer | undefined;
  }

  /** Deletes every row of a generation, then its registry item. */
  async function dropGeneration(feed: FeedName, gen: string): Promise<void> {
    await mapLimit(
      Array.from({ length: FEED_SHARDS }, (_, s) => s),
      8,
      async (shard) => {
        let start: Record<string, unknown> | undefined;
        do {
          const r = await doc.send(
            new QueryCommand({
              TableName: table,
              KeyConditionExpression: 'pk = :pk',
              ExpressionAttributeValues: { ':pk': rowPk(feed, gen, shard) },
              ProjectionExpression: 'pk, sk',
              ExclusiveStartKey: start,
            }),
          );
          const keys = (r.Items ?? []) as { pk: string; sk: string }[];
          if (keys.length > 0) {
            await batchWrite(
              doc,
              table,
              keys.map((k) => ({ DeleteRequest: { Key: { pk: k.pk, sk: k.sk } } })),
            );
          }
          start = r.LastEvaluatedKey;
        } while (start);
      },
    );
    await doc.send(
      new DeleteCommand({ TableName: table, Key: { pk: controlPk(feed), sk: genSk(gen) } }),
    );
  }

  /** Retired generations, and writing ones a crash left behind; never the live one. */
  async function sweep(feed: FeedName, live: string): Promise<void> {
    const r = await doc.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :gen)',
        ExpressionAttributeValues: { ':pk': controlPk(feed), ':gen': 'GEN#' },
        ConsistentRead: true,
      }),
    );
    const cutoff = now().getTime() - STALE_WRITING_MS;
    for (const g of (r.Items ?? []) as { generation: string; state: string; startedAt: string }[]) {
      if (g.generation === live) continue;
      if (g.state === 'retired' || (g.state === 'writing' && Date.parse(g.startedAt) < cutoff)) {
        await dropGeneration(feed, g.generation);
      }
    }
  }

  async function replace<T extends { cve: string }>(
    feed: FeedName,
    rows: AsyncIterable<T> | Iterable<T>,
    source: FeedSource,
    item: (row: T) => Item,
  ): Promise<FeedStatus> {
    const gen = randomBytes(8).toString('hex');
    const old = await store(() => pointer(feed));
    await store(() =>
      doc.send(
        new PutCommand({
          TableName: table,
          Item: {
            pk: controlPk(feed),
            sk: genSk(gen),
            generation: gen,
            state: 'writing',
            startedAt: now().toISOString(),
          },
        }),
      ),
    );
    let count = 0;
    try {
      let batch: Item[] = [];
      const flush = () => {
        const puts = batch.map((Item) => ({ PutRequest: { Item } }));
        batch = [];
        return store(() => batchWrite(doc, table, puts));
      };
      // Errors thrown by the rows (a bad line) pass through as they are.
      for await (const row of rows) {
        batch.push({ ...rowKey(feed, gen, row.cve), ...item(row) });
        count++;
        if (batch.length >= WRITE_BATCH) await flush();
      }
      if (batch.length > 0) await flush();
      const status: FeedStatus = {
        name: feed,
        version: source.version,
        date: source.date,
        count,
        sha256: source.sha256(),
        importedAt: now().toISOString(),
      };
      const { name: _, ...fields } = status;
      await store(() =>
        doc
          .send(
            new TransactWriteCommand({
              TransactItems: [
                {
                  Put: {
                    TableName: table,
                    Item: { pk: controlPk(feed), sk: CURRENT, generation: gen, ...fields },
                    ...(old
                      ? {
                          ConditionExpression: 'generation = :old',
                          ExpressionAttributeValues: { ':old': old.generation },
                        }
                      : { ConditionExpression: 'attribute_not_exists(pk)' }),
                  },
                },
                {
                  Update: {
                    TableName: table,
                    Key: { pk: controlPk(feed), sk: genSk(gen) },
                    UpdateExpression: 'SET #s = :live',
                    ExpressionAttributeNames: { '#s': 'state' },
                    ExpressionAttributeValues: { ':live': 'live' },
                  },
                },
                ...(old
                  ? [
                      {
                        Update: {
                          TableName: table,
                          Key: { pk: controlPk(feed), sk: genSk(old.generation) },
                          UpdateExpression: 'SET #s = :retired, generation = :g',
                          ExpressionAttributeNames: { '#s': 'state' },
                          ExpressionAttributeValues: {
                            ':retired': 'retired',
                            ':g': old.generation,
                          },
                        },
                      },
                    ]
                  : []),
              ],
            }),
          )
          .catch((err: unknown) => {
            if (isConditionFailure(err)) {
              throw new Error(
                `feeds: another import of ${feed} switched first; this one was discarded`,
                {
                  cause: err,
                },
              );
            }
            throw err;
          }),
      );
      // The new generation is live: old rows go now (or at a later import).
      await sweep(feed, gen).catch(() => undefined);
      return status;
    } catch (err) {
      // Unless the switch happened after all (an ambiguous failure), what
      // this import wrote goes.
      const live = await pointer(feed).catch(() => undefined);
      if (live?.generation !== gen) await dropGeneration(feed, gen).catch(() => undefined);
      throw err;
    }
  }

  return {
    importKev(entries, source) {
      return replace<KevEntry>('kev', entries, source, (e) => ({
        dateAdded: e.dateAdded,
        dueDate: e.dueDate,
        ransomware: e.ransomware,
        vendor: e.vendorProject,
        product: e.product,
        name: e.vulnerabilityName,
      }));
    },
    importEpss(rows, source) {
      return replace<EpssScore>('epss', rows, source, (r) => ({
        epss: r.epss,
        percentile: r.percentile,
      }));
    },
    status() {
      return store(async () => {
        const out: FeedStatus[] = [];
        for (const name of FEED_NAMES) {
          const p = await pointer(name);
          if (p) {
            out.push({
              name,
              version: p.version,
              date: p.date,
              count: p.count,
              sha256: p.sha256,
              importedAt: p.importedAt,
            });
          }
        }
        return out;
      });
    },
    lookup(cves) {
      return store(async () => {
        const out = new Map<string, CvePriority>();
        for (const cve of cves) out.set(cve, { kev: null, epss: null, epssPercentile: null });
        const unique = [...out.keys()];
        const [kev, epss] = await Promise.all(FEED_NAMES.map((f) => pointer(f)));
        if (kev && unique.length > 0) {
          for (const it of await batchGet(
            doc,
            table,
            unique.map((c) => rowKey('kev', kev.generation, c)),
          )) {
            const p = out.get(it.sk as string);
            if (p) {
              p.kev = {
                dateAdded: it.dateAdded as string,
                dueDate: it.dueDate as string,
                ransomware: it.ransomware === true,
              };
            }
          }
        }
        if (epss && unique.length > 0) {
          for (const it of await batchGet(
            doc,
            table,
            unique.map((c) => rowKey('epss', epss.generation, c)),
          )) {
            const p = out.get(it.sk as string);
            if (p) {
              p.epss = it.epss as number;
              p.epssPercentile = it.percentile as number;
            }
          }
        }
        return out;
      });
    },
  };
}
