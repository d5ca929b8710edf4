// Idempotency-Key records on DynamoDB. begin() claims a key with one
// conditional put: it succeeds when no record exists, when the record is
// older than the 48 h it is kept (DynamoDB's TTL deletes it later, but not
// promptly), or when a claim was left running longer than any Lambda can run
// (its request died; SQLite drops those when the store opens instead).

import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { IdempotencyStore } from '../../core/ports.js';
import { isConditionFailure, storeError } from './client.js';

/** How long a key's record is kept (README and the contract state it; a test checks). */
export const IDEMPOTENCY_KEEP_MS = 48 * 3600 * 1000;
/** A claim still running after this long belongs to a request that died. */
const STALE_RUNNING_MS = 16 * 60_000;

export function createDynamoIdempotencyStore(
  doc: DynamoDBDocumentClient,
  table: string,
): IdempotencyStore {
  const wrap = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw storeError(err);
    }
  };
  return {
    begin: (scope, key, now) =>
      wrap(async () => {
        const t = now.getTime();
        try {
          await doc.send(
            new PutCommand({
              TableName: table,
              Item: {
                scope,
                key,
                state: 'running',
                createdAt: now.toISOString(),
                createdMs: t,
                expiresAt: Math.ceil((t + IDEMPOTENCY_KEEP_MS) / 1000),
              },
              ConditionExpression:
                'attribute_not_exists(#scope) OR #created < :expired OR (#state = :running AND #created < :stale)',
              ExpressionAttributeNames: {
                '#scope': 'scope',
                '#created': 'createdMs',
                '#state': 'state',
              },
              ExpressionAttributeValues: {
                ':expired': t - IDEMPOTENCY_KEEP_MS,
                ':stale': t - STALE_RUNNING_MS,
                ':running': 'running',
              },
            }),
          );
          return { state: 'started' as const };
        } catch (err) {
          if (!isConditionFailure(err)) throw err;
        }
        const r = await doc.send(
          new GetCommand({ TableName: table, Key: { scope, key }, ConsistentRead: true }),
        );
        const it = r.Item;
        if (!it || it.state === 'running') return { state: 'running' as const };
        return {
          state: 'done' as const,
          requestHash: (it.requestHash as string | undefined) ?? '',
          status: (it.status as number | undefined) ?? 200,
          body: (it.body as string | undefined) ?? '',
        };
      }),
    complete: (scope, key, r) =>
      wrap(async () => {
        try {
          await doc.send(
            new UpdateCommand({
              TableName: table,
              Key: { scope, key },
              UpdateExpression:
                'SET #state = :done, #hash = :hash, #status = :status, #body = :body',
              ConditionExpression: 'attribute_exists(#scope)',
              ExpressionAttributeNames: {
                '#scope': 'scope',
                '#state': 'state',
                '#hash': 'requestHash',
                '#status': 'status',
                '#body': 'body',
              },
              ExpressionAttributeValues: {
                ':done': 'done',
                ':hash': r.requestHash,
                ':status': r.status,
                ':body': r.body,
              },
            }),
          );
        } catch (err) {
          // No claim to complete (as SQLite's UPDATE of no row): nothing to do.
          if (!isConditionFailure(err)) throw err;
        }
      }),
    release: (scope, key) =>
      wrap(async () => {
        try {
          await doc.send(
            new DeleteCommand({
              TableName: table,
              Key: { scope, key },
              ConditionExpression: '#state = :running',
              ExpressionAttributeNames: { '#state': 'state' },
              ExpressionAttributeValues: { ':running': 'running' },
            }),
          );
        } catch (err) {
          if (!isConditionFailure(err)) throw err;
        }
      }),
  };
}
