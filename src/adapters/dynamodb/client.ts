// The DynamoDB document client and the small helpers every adapter file
// shares: vendor errors → store_unavailable, batch reads and writes that
// retry what DynamoDB left unprocessed, and bounded parallelism.

import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DynamoDBDocumentClient,
  type NativeAttributeValue,
} from '@aws-sdk/lib-dynamodb';
import { VaultError } from '../../core/errors.js';

export type Item = Record<string, NativeAttributeValue>;
export type Key = { pk: string; sk: string };

/** Table names: from table-design's env vars on Lambda, chosen by tests locally. */
export interface DynamoTables {
  findings: string;
  policies: string;
  idempotency: string;
  feeds: string;
}

export function createDocumentClient(config: DynamoDBClientConfig = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function isConditionFailure(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException';
}

/** Domain errors pass through; anything from the SDK becomes store_unavailable (cause kept). */
export function storeError(err: unknown): Error {
  if (err instanceof VaultError) return err;
  return new VaultError('store_unavailable', 'the findings store is unavailable', { cause: err });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** BatchGetItem in chunks of 100, retrying unprocessed keys; consistent reads. */
export async function batchGet(
  doc: DynamoDBDocumentClient,
  table: string,
  keys: readonly Key[],
  projection?: { expression: string; names: Record<string, string> },
): Promise<Item[]> {
  const out: Item[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    let pending: Key[] | undefined = keys.slice(i, i + 100);
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt > 8) throw new Error('BatchGetItem: keys left unprocessed');
      if (attempt > 0) await sleep(20 * 2 ** attempt);
      const r = await doc.send(
        new BatchGetCommand({
          RequestItems: {
            [table]: {
              Keys: pending,
              ConsistentRead: true,
              ...(projection
                ? {
                    ProjectionExpression: projection.expression,
                    ExpressionAttributeNames: projection.names,
                  }
                : {}),
            },
          },
        }),
      );
      out.push(...(r.Responses?.[table] ?? []));
      pending = r.UnprocessedKeys?.[table]?.Keys as Key[] | undefined;
    }
  }
  return out;
}

/** BatchWriteItem puts/deletes in chunks of 25, retrying unprocessed ones. */
export async function batchWrite(
  doc: DynamoDBDocumentClient,
  table: string,
  requests: readonly ({ PutRequest: { Item: Item } } | { DeleteRequest: { Key: Key } })[],
): Promise<void> {
  const chunks: (typeof requests)[] = [];
  for (let i = 0; i < requests.length; i += 25) chunks.push(requests.slice(i, i + 25));
  await mapLimit(chunks, 8, async (chunk) => {
    let pending: readonly unknown[] | undefined = chunk;
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt > 8) throw new Error('BatchWriteItem: requests left unprocessed');
      if (attempt > 0) await sleep(20 * 2 ** attempt);
      const r: BatchWriteCommandOutput = await doc.send(
        new BatchWriteCommand({ RequestItems: { [table]: pending as never } }),
      );
      pending = r.UnprocessedItems?.[table];
    }
  });
}

/** Runs fn over items with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
