// The policy store (IAM 1.2) on DynamoDB: one item per grant,
// principal = "<type>#<name>", grant = "<action>#<org>". isAllowed is one
// consistent GetItem, so a revoke takes effect on the next request; any
// failure is policy_unavailable and the caller denies (fail closed).

import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { VaultError } from '../../core/errors.js';
import type { Action, PrincipalRef } from '../../core/principal.js';
import type { Grant, PolicyReader } from '../../core/ports.js';
import { binaryCompare } from './finding-item.js';
import { isConditionFailure, storeError, type Item } from './client.js';

const principalKey = (p: PrincipalRef) => `${p.type}#${p.name}`;
const grantKey = (action: Action, org: string) => `${action}#${org}`;

export function createDynamoPolicyReader(doc: DynamoDBDocumentClient, table: string): PolicyReader {
  return {
    async isAllowed(principal, action, org) {
      try {
        const r = await doc.send(
          new GetCommand({
            TableName: table,
            Key: { principal: principalKey(principal), grant: grantKey(action, org) },
            ConsistentRead: true,
          }),
        );
        return r.Item !== undefined;
      } catch (err) {
        const name = (err as { name?: unknown } | null)?.name;
        throw new VaultError(
          'policy_unavailable',
          'the policy store is unavailable; access denied',
          {
            cause: new Error(`policy store: ${typeof name === 'string' ? name : 'unknown'}`, {
              cause: err,
            }),
          },
        );
      }
    },
  };
}

/** PolicyWriter's operations, asynchronous as DynamoDB is (admin tooling and tests). */
export interface DynamoPolicyWriter {
  grant(g: Grant): Promise<boolean>;
  revoke(g: Grant): Promise<boolean>;
  list(
    filter?: Partial<{ principal: PrincipalRef; action: Action; org: string }>,
  ): Promise<Grant[]>;
}

function toGrant(it: Item): Grant {
  return {
    principal: { type: it.principalType as PrincipalRef['type'], name: it.principalName as string },
    action: it.action as Action,
    org: it.org as string,
  };
}

export function createDynamoPolicyWriter(
  doc: DynamoDBDocumentClient,
  table: string,
): DynamoPolicyWriter {
  const key = (g: Grant) => ({
    principal: principalKey(g.principal),
    grant: grantKey(g.action, g.org),
  });
  return {
    async grant(g) {
      try {
        await doc.send(
          new PutCommand({
            TableName: table,
            Item: {
              ...key(g),
              principalType: g.principal.type,
              principalName: g.principal.name,
              action: g.action,
              org: g.org,
              createdAt: new Date().toISOString(),
            },
            ConditionExpression: 'attribute_not_exists(#p)',
            ExpressionAttributeNames: { '#p': 'principal' },
          }),
        );
        return true;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw storeError(err);
      }
    },
    async revoke(g) {
      try {
        const r = await doc.send(
          new DeleteCommand({ TableName: table, Key: key(g), ReturnValues: 'ALL_OLD' }),
        );
        return r.Attributes !== undefined;
      } catch (err) {
        throw storeError(err);
      }
    },
    async list(filter = {}) {
      try {
        const items: Item[] = [];
        let start: Record<string, unknown> | undefined;
        do {
          const r = await doc.send(
            filter.principal
              ? new QueryCommand({
                  TableName: table,
                  KeyConditionExpression: '#p = :p',
                  ExpressionAttributeNames: { '#p': 'principal' },
                  ExpressionAttributeValues: { ':p': principalKey(filter.principal) },
                  ExclusiveStartKey: start,
                })
              : new ScanCommand({ TableName: table, ExclusiveStartKey: start }),
          );
          items.push(...(r.Items ?? []));
          start = r.LastEvaluatedKey;
        } while (start);
        return items
          .map(toGrant)
          .filter(
            (g) =>
              (filter.action === undefined || g.action === filter.action) &&
              (filter.org === undefined || g.org === filter.org),
          )
          .sort(
            (a, b) =>
              binaryCompare(a.principal.type, b.principal.type) ||
              binaryCompare(a.principal.name, b.principal.name) ||
              binaryCompare(a.org, b.org) ||
              binaryCompare(a.action, b.action),
          );
      } catch (err) {
        throw storeError(err);
      }
    },
  };
}
