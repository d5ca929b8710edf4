// Creates the tables of table-design.ts (for DynamoDB Local in tests and local
// trials; on AWS the CDK app creates them from the same description).

import {
  CreateTableCommand,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type DynamoDBClient,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { TABLES, type KeyAttribute, type TableDesign } from './table-design.js';

function keySchema(pk: KeyAttribute, sk?: KeyAttribute): KeySchemaElement[] {
  return [
    { AttributeName: pk.name, KeyType: 'HASH' },
    ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
  ];
}

export async function createTable(client: DynamoDBClient, t: TableDesign, name: string) {
  const attrs = new Map<string, AttributeDefinition>();
  const add = (a?: KeyAttribute) => {
    if (a) attrs.set(a.name, { AttributeName: a.name, AttributeType: a.type });
  };
  add(t.partitionKey);
  add(t.sortKey);
  for (const g of t.globalSecondaryIndexes) {
    add(g.partitionKey);
    add(g.sortKey);
  }
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...attrs.values()],
      KeySchema: keySchema(t.partitionKey, t.sortKey),
      ...(t.globalSecondaryIndexes.length > 0
        ? {
            GlobalSecondaryIndexes: t.globalSecondaryIndexes.map((g) => ({
              IndexName: g.indexName,
              KeySchema: keySchema(g.partitionKey, g.sortKey),
              Projection: { ProjectionType: g.projection },
            })),
          }
        : {}),
    }),
  );
  if (t.timeToLiveAttribute) {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: t.timeToLiveAttribute, Enabled: true },
      }),
    );
  }
}

/** Creates every table named `<prefix><logicalId>`; returns the names by role. */
export async function createAllTables(client: DynamoDBClient, prefix: string) {
  for (const t of TABLES) await createTable(client, t, `${prefix}${t.logicalId}`);
  return {
    findings: `${prefix}Findings`,
    policies: `${prefix}Policies`,
    idempotency: `${prefix}IdempotencyKeys`,
    feeds: `${prefix}Feeds`,
  };
}
