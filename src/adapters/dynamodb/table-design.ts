// The DynamoDB tables as one description shared by the store adapter and the
// CDK app (infra/), so the deployed tables always match what the code queries.
// Key values are built by the adapter; nothing here is derived from input.

export type AttributeType = 'S' | 'N' | 'B';

export interface KeyAttribute {
  name: string;
  type: AttributeType;
}

export interface IndexDesign {
  indexName: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute | undefined;
  projection: 'ALL' | 'KEYS_ONLY';
}

export interface TableDesign {
  /** CDK construct id and the base of the table name. */
  logicalId: string;
  /** Environment variable through which a Lambda learns the table's name. */
  envVar: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute | undefined;
  globalSecondaryIndexes: readonly IndexDesign[];
  /** Attribute holding an epoch-seconds expiry, when items expire. */
  timeToLiveAttribute?: string | undefined;
}

/**
 * Findings of every org, one partition per org (pk = "O#<org>"), items sorted
 * by sk: findings ("F#<seq, zero-padded>"), identity and VulnID claims, the
 * per-org sequence counter and batch commit markers; triage and history
 * items of findings (keys.ts). gsi1 is an overloaded index the adapter uses
 * for filtered reads; gsi2 (sparse, keys only) holds the risk acceptances by
 * expiresAt, for the expiry sweep.
 */
export const FINDINGS_TABLE: TableDesign = {
  logicalId: 'Findings',
  envVar: 'VULNVAULT_FINDINGS_TABLE',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalSecondaryIndexes: [
    {
      indexName: 'gsi1',
      partitionKey: { name: 'gsi1pk', type: 'S' },
      sortKey: { name: 'gsi1sk', type: 'S' },
      projection: 'ALL',
    },
    {
      indexName: 'gsi2',
      partitionKey: { name: 'gsi2pk', type: 'S' },
      sortKey: { name: 'gsi2sk', type: 'S' },
      projection: 'KEYS_ONLY',
    },
  ],
};

/** Grants: pk = "<principal type>#<principal name>", sk = "<action>#<org>". */
export const POLICY_TABLE: TableDesign = {
  logicalId: 'Policies',
  envVar: 'VULNVAULT_POLICY_TABLE',
  partitionKey: { name: 'principal', type: 'S' },
  sortKey: { name: 'grant', type: 'S' },
  globalSecondaryIndexes: [],
};

/** Idempotency-Key records per principal scope; expire after 24 h or more. */
export const IDEMPOTENCY_TABLE: TableDesign = {
  logicalId: 'IdempotencyKeys',
  envVar: 'VULNVAULT_IDEMPOTENCY_TABLE',
  partitionKey: { name: 'scope', type: 'S' },
  sortKey: { name: 'key', type: 'S' },
  globalSecondaryIndexes: [],
  timeToLiveAttribute: 'expiresAt',
};

/**
 * The priority feeds (KEV, EPSS), one current generation each: pk "FEED#<feed>"
 * holds the pointer (sk "CURRENT") and one registry item per generation
 * (sk "GEN#<id>"); a generation's rows are spread over 64 partitions,
 * pk "<feed>#<generation>#<shard>", sk = the CVE (dynamodb/feed-store.ts).
 */
export const FEEDS_TABLE: TableDesign = {
  logicalId: 'Feeds',
  envVar: 'VULNVAULT_FEEDS_TABLE',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalSecondaryIndexes: [],
};

export const TABLES: readonly TableDesign[] = [
  FINDINGS_TABLE,
  POLICY_TABLE,
  IDEMPOTENCY_TABLE,
  FEEDS_TABLE,
];
