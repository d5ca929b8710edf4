// The DynamoDB tables, built from the design the store adapter uses
// (src/adapters/dynamodb/table-design.ts), so keys and indexes cannot drift.
// Every table: customer-managed key, point-in-time recovery, deletion
// protection, on-demand capacity, kept when the stack is deleted.
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { KeyAttribute, TableDesign } from '../../src/adapters/dynamodb/table-design.js';
import { TABLES } from '../../src/adapters/dynamodb/table-design.js';

const ATTRIBUTE_TYPE: Record<KeyAttribute['type'], dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

const attr = (a: KeyAttribute): dynamodb.Attribute => ({
  name: a.name,
  type: ATTRIBUTE_TYPE[a.type],
});

function createTable(scope: Construct, design: TableDesign, key: kms.IKey): dynamodb.Table {
  const table = new dynamodb.Table(scope, design.logicalId, {
    partitionKey: attr(design.partitionKey),
    sortKey: design.sortKey ? attr(design.sortKey) : undefined,
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: key,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: true,
    timeToLiveAttribute: design.timeToLiveAttribute,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  for (const index of design.globalSecondaryIndexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: attr(index.partitionKey),
      sortKey: index.sortKey ? attr(index.sortKey) : undefined,
      projectionType:
        index.projection === 'ALL'
          ? dynamodb.ProjectionType.ALL
          : dynamodb.ProjectionType.KEYS_ONLY,
    });
  }
  return table;
}

export type Tables = ReadonlyMap<string, dynamodb.Table>;

/** One table per design, keyed by the design's `logicalId`. */
export function createTables(scope: Construct, key: kms.IKey): Tables {
  return new Map(TABLES.map((d) => [d.logicalId, createTable(scope, d, key)]));
}

export function tableOf(tables: Tables, design: TableDesign): dynamodb.Table {
  const t = tables.get(design.logicalId);
  if (!t) throw new Error(`no table for ${design.logicalId}`);
  return t;
}
