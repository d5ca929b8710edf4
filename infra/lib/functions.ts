// The four functions (authorizer, ingest, query, triage), each with its own
// role that can do only what that function needs (IAM 1.3), bundled with the
// local esbuild (no Docker, no network), running in the isolated subnets.
// Their environment is encrypted with the data key; only the query function
// gets the page-cursor secret (cursor-secret.ts).
import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { fileURLToPath } from 'node:url';
import {
  FEEDS_TABLE,
  FINDINGS_TABLE,
  IDEMPOTENCY_TABLE,
  POLICY_TABLE,
  TABLES,
} from '../../src/adapters/dynamodb/table-design.js';
import { MAX_RISK_ACCEPTANCE_DAYS_VAR } from '../../src/lambda/env.js';
import type { DeployConfig } from './config.js';
import { cursorSecretEnvironment } from './cursor-secret.js';
import { functionName, type FunctionName } from './names.js';
import type { Network } from './network.js';
import { tableOf, type Tables } from './tables.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * What the findings reader (dynamodb/findings-reader.ts) does: GetItem for
 * one finding, Query for a page (gsi1 for the asset filter), BatchGetItem for
 * the import markers that say which staged items are visible (markers.ts).
 */
const FINDINGS_READ = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'];

/** The KEV/EPSS join (dynamodb/feed-store.ts lookup): the feed pointers, then the rows in batches. */
const FEEDS_READ = ['dynamodb:GetItem', 'dynamodb:BatchGetItem'];

/** What each role may do to DynamoDB, per table design (the least-privilege contract). */
export const TABLE_ACTIONS: Record<FunctionName, Record<string, string[]>> = {
  authorizer: { [POLICY_TABLE.logicalId]: ['dynamodb:GetItem', 'dynamodb:Query'] },
  query: {
    [FINDINGS_TABLE.logicalId]: FINDINGS_READ,
    [FEEDS_TABLE.logicalId]: FEEDS_READ,
    // IAM-authorized API (no Lambda authorizer): the function itself maps the
    // caller's role ARN to a principal and reads its grants.
    [POLICY_TABLE.logicalId]: ['dynamodb:GetItem', 'dynamodb:Query'],
  },
  ingest: {
    // A batch is TransactWriteItems (authorized per contained
    // Put/Update/Delete/ConditionCheck) or BatchWriteItem for staged items.
    // Reads only of what an import compares against: GetItem (a seed batch's
    // VulnID claims), BatchGetItem (identity claims, prior versions, import
    // markers), Query (the org's open findings that an import marks fixed).
    [FINDINGS_TABLE.logicalId]: [
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:ConditionCheckItem',
    ],
    // GetItem: a retried POST with a known Idempotency-Key replays the stored
    // first response, which has to be read back.
    [IDEMPOTENCY_TABLE.logicalId]: [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:ConditionCheckItem',
    ],
    [POLICY_TABLE.logicalId]: ['dynamodb:GetItem', 'dynamodb:Query'],
  },
  // The triage store (dynamodb/triage-store.ts) changes analysis only: a
  // triage item and history items beside each finding, never the finding
  // item itself. A bulk change (up to 10,000 findings, all or none) is staged
  // under a marker and committed by one conditional write.
  triage: {
    [FINDINGS_TABLE.logicalId]: [
      // The reader's reads (FINDINGS_READ): the finding answered after a
      // change, the findings a bulk change selects by filter (Query) or by id
      // (BatchGetItem), the markers, and the expiry sweep's Query on gsi2.
      ...FINDINGS_READ,
      // setAnalysis and the sweep: one TransactWriteItems — the finding (and a
      // staging import's marker) unchanged, the triage item and a history item.
      'dynamodb:ConditionCheckItem',
      'dynamodb:PutItem',
      // A bulk change's marker: committed, aborted, or fenced past its deadline.
      'dynamodb:UpdateItem',
      // A bulk change's history entries, 25 to a request.
      'dynamodb:BatchWriteItem',
    ],
    // The changed finding is answered with its KEV/EPSS join.
    [FEEDS_TABLE.logicalId]: FEEDS_READ,
    [POLICY_TABLE.logicalId]: ['dynamodb:GetItem', 'dynamodb:Query'],
  },
};

/** Direct KMS calls for the per-org data keys (envelope encryption in the functions). */
export const ENVELOPE_KMS_ACTIONS: Record<FunctionName, string[]> = {
  authorizer: [],
  query: ['kms:Decrypt'],
  ingest: ['kms:Decrypt', 'kms:GenerateDataKey'],
  // Reads sealed findings and seals comments with the org's data key, which
  // the org's first write made: it unwraps, never creates one.
  triage: ['kms:Decrypt'],
};

/** Lambda creates its network interfaces with the function's role; these take no resource ARN. */
export const ENI_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

export interface FunctionsProps {
  config: DeployConfig;
  key: kms.IKey;
  tables: Tables;
  trustBucket: s3.IBucket;
  /** The page-cursor secret: resolved into the query function's environment only. */
  cursorSecret: secretsmanager.ISecret;
  network: Network;
}

export type Functions = Record<FunctionName, nodejs.NodejsFunction>;

function statements(
  name: FunctionName,
  p: FunctionsProps,
  logGroup: logs.ILogGroup,
): iam.PolicyStatement[] {
  const region = Stack.of(logGroup).region;
  const out: iam.PolicyStatement[] = [
    new iam.PolicyStatement({
      sid: 'OwnLogGroup',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }),
    new iam.PolicyStatement({
      sid: 'VpcNetworkInterfaces',
      actions: ENI_ACTIONS,
      resources: ['*'],
    }),
  ];
  const tableNames: string[] = [];
  for (const [logicalId, actions] of Object.entries(TABLE_ACTIONS[name])) {
    const table = p.tables.get(logicalId);
    if (!table) throw new Error(`no table ${logicalId}`);
    tableNames.push(table.tableName);
    // Queries may use the table's indexes, named one by one (no index/*).
    const indexes = actions.includes('dynamodb:Query')
      ? (TABLES.find((d) => d.logicalId === logicalId)?.globalSecondaryIndexes ?? [])
      : [];
    out.push(
      new iam.PolicyStatement({
        sid: `Table${logicalId}`,
        actions,
        resources: [
          table.tableArn,
          ...indexes.map((i) => `${table.tableArn}/index/${i.indexName}`),
        ],
      }),
    );
  }
  // DynamoDB decrypts its table keys with the caller's permission: only through
  // DynamoDB, only for the tables above.
  out.push(
    new iam.PolicyStatement({
      sid: 'KeyViaDynamoDb',
      actions: ['kms:Decrypt'],
      resources: [p.key.keyArn],
      conditions: {
        StringEquals: {
          'kms:ViaService': `dynamodb.${region}.amazonaws.com`,
          'kms:EncryptionContext:aws:dynamodb:tableName': tableNames,
        },
      },
    }),
  );
  if (name === 'authorizer') {
    out.push(
      new iam.PolicyStatement({
        sid: 'TruststoreAndCrl',
        actions: ['s3:GetObject'],
        resources: [
          p.trustBucket.arnForObjects(p.config.truststoreKey),
          p.trustBucket.arnForObjects(p.config.crlKey),
        ],
      }),
      new iam.PolicyStatement({
        sid: 'KeyViaS3',
        actions: ['kms:Decrypt'],
        resources: [p.key.keyArn],
        conditions: {
          StringEquals: {
            'kms:ViaService': `s3.${region}.amazonaws.com`,
            'kms:EncryptionContext:aws:s3:arn': p.trustBucket.bucketArn,
          },
        },
      }),
    );
  }
  const envelope = ENVELOPE_KMS_ACTIONS[name];
  if (envelope.length > 0) {
    out.push(
      new iam.PolicyStatement({
        sid: 'EnvelopeDataKeys',
        actions: envelope,
        resources: [p.key.keyArn],
        // Direct calls only, and only with an encryption context of our own
        // (binding the org); never with an aws:* context, so the role cannot
        // unwrap what DynamoDB or S3 encrypted with this key.
        conditions: {
          Null: { 'kms:EncryptionContextKeys': 'false', 'kms:ViaService': 'true' },
          'ForAllValues:StringNotLike': { 'kms:EncryptionContextKeys': ['aws:*'] },
        },
      }),
    );
  }
  return out;
}

const SETTINGS: Record<FunctionName, { memoryMiB: number; timeoutSeconds: number }> = {
  authorizer: { memoryMiB: 256, timeoutSeconds: 5 },
  query: { memoryMiB: 512, timeoutSeconds: 10 },
  // API Gateway gives up after 29 s; a scan import must fit in that.
  ingest: { memoryMiB: 1024, timeoutSeconds: 29 },
  // A bulk change touches up to 10,000 findings, all or none, within API
  // Gateway's 29 s.
  triage: { memoryMiB: 1024, timeoutSeconds: 29 },
};

export function createFunctions(scope: Construct, p: FunctionsProps): Functions {
  const shared: Record<string, string> = {
    [FINDINGS_TABLE.envVar]: tableOf(p.tables, FINDINGS_TABLE).tableName,
    [POLICY_TABLE.envVar]: tableOf(p.tables, POLICY_TABLE).tableName,
    [IDEMPOTENCY_TABLE.envVar]: tableOf(p.tables, IDEMPOTENCY_TABLE).tableName,
    VULNVAULT_TRUST_BUCKET: p.trustBucket.bucketName,
    VULNVAULT_TRUSTSTORE_KEY: p.config.truststoreKey,
    VULNVAULT_CRL_KEY: p.config.crlKey,
    VULNVAULT_KMS_KEY_ID: p.key.keyArn,
    NODE_OPTIONS: '--enable-source-maps',
  };
  // The feeds table only where the role may read it.
  const feeds = { [FEEDS_TABLE.envVar]: tableOf(p.tables, FEEDS_TABLE).tableName };
  const environmentOf = (name: FunctionName): Record<string, string> => {
    switch (name) {
      case 'query':
        return {
          ...shared,
          ...feeds,
          ...cursorSecretEnvironment(p.cursorSecret, p.config.cursorSecretPrevious),
        };
      case 'triage':
        return {
          ...shared,
          ...feeds,
          [MAX_RISK_ACCEPTANCE_DAYS_VAR]: String(p.config.maxRiskAcceptanceDays),
        };
      default:
        return shared;
    }
  };
  const make = (name: FunctionName): nodejs.NodejsFunction => {
    const logGroup = new logs.LogGroup(scope, `${name}Logs`, {
      logGroupName: `/aws/lambda/${functionName(name)}`,
      encryptionKey: p.key,
      retention: p.config.logRetentionDays as logs.RetentionDays,
    });
    const role = new iam.Role(scope, `${name}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `vulnvault ${name}: least privilege`,
      inlinePolicies: {
        leastPrivilege: new iam.PolicyDocument({ statements: statements(name, p, logGroup) }),
      },
    });
    const s = SETTINGS[name];
    return new nodejs.NodejsFunction(scope, `${name}Function`, {
      functionName: functionName(name),
      entry: fileURLToPath(new URL(`../../src/lambda/${name}.ts`, import.meta.url)),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: fileURLToPath(new URL('../../package-lock.json', import.meta.url)),
      runtime: new lambda.Runtime(p.config.lambdaRuntime, lambda.RuntimeFamily.NODEJS, {
        supportsInlineCode: true,
      }),
      architecture: lambda.Architecture.ARM_64,
      memorySize: s.memoryMiB,
      timeout: Duration.seconds(s.timeoutSeconds),
      role,
      logGroup,
      vpc: p.network.vpc,
      vpcSubnets: p.network.subnets,
      securityGroups: [p.network.functionSecurityGroup],
      environment: environmentOf(name),
      // The query function's environment holds a secret: the customer-managed key, not Lambda's own.
      environmentEncryption: p.key,
      bundling: {
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // The code is written and tested for Node 20; newer runtimes run it as is.
        target: 'node20',
        format: nodejs.OutputFormat.ESM,
        mainFields: ['module', 'main'],
        // ESM bundles still meet CommonJS dependencies that call require().
        banner:
          "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
        // The Node 20 runtime ships the AWS SDK v3; bundling it only adds size.
        externalModules: ['@aws-sdk/*'],
        forceDockerBundling: false,
      },
    });
  };
  return {
    authorizer: make('authorizer'),
    ingest: make('ingest'),
    query: make('query'),
    triage: make('triage'),
  };
}
