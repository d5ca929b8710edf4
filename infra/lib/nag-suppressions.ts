// Every cdk-nag finding this app acknowledges, each with the reason it is
// acceptable here. A finding not listed fails the synth and `npm test`
// (test/infra/nag.test.ts); an entry whose construct no longer exists throws,
// so the list cannot go stale.
import { Token, Validations, type Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { FUNCTIONS } from './names.js';

export interface Acknowledgement {
  /** Construct path below the stack, e.g. `TrustBucket/Resource`. */
  path: string;
  id: string;
  reason: string;
}

const ENI_REASON =
  'Lambda creates the function network interfaces (VPC access) with the execution role; ' +
  'ec2:CreateNetworkInterface, DescribeNetworkInterfaces, DescribeSubnets, DeleteNetworkInterface, ' +
  'Assign/UnassignPrivateIpAddresses do not support resource-level ARNs. Nothing else in this role is a wildcard.';

export const DATA_ACKNOWLEDGEMENTS: readonly Acknowledgement[] = [
  {
    path: 'TrustBucket/Resource',
    id: 'AwsSolutions::AwsSolutions-S1',
    reason:
      'Object-level access to the truststore and CRL is recorded by CloudTrail data events (advanced selector ' +
      '"trust-bucket-objects") into the KMS-encrypted log bucket; S3 server access logs could only go to an ' +
      'SSE-S3 bucket, which would break "every bucket encrypted with the customer-managed key".',
  },
  {
    path: 'LogBucket/Resource',
    id: 'AwsSolutions::AwsSolutions-S1',
    reason:
      'This is the log bucket. Deletions and permission changes of its objects are recorded by CloudTrail ' +
      '(selector "log-bucket-deletions"); logging every access to it into itself would loop.',
  },
  {
    path: 'CursorSecret/Resource',
    id: 'AwsSolutions::AwsSolutions-SMG4',
    reason:
      'The page-cursor secret is resolved into the query function configuration at deploy time, so a scheduled ' +
      'rotation would change it without reaching the function and with no grace period for cursors in use. It is ' +
      'rotated by put-secret-value followed by a deploy with -c cursorSecretPrevious=true (both values accepted), ' +
      'then a deploy without it (infra/lib/cursor-secret.ts, README "Deploy to AWS"). It guards no data: a cursor ' +
      'only says where a page resumes, every read is still authorized.',
  },
  {
    path: 'BackupPlan/Tables/Role/Resource',
    id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
    reason:
      'AWS Backup assumes this role to snapshot the DynamoDB tables; AWSBackupServiceRolePolicyForBackup is the ' +
      'service-maintained policy for that, kept current by AWS as Backup gains APIs. Only AWS Backup can assume it.',
  },
];

/** How cdk-nag prints a pseudo parameter: its value when the stack has a concrete env. */
const shown = (value: string, pseudo: string) =>
  Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value;

export const apiAcknowledgements = (stack: Stack): readonly Acknowledgement[] => [
  ...FUNCTIONS.map((f) => ({
    path: `${f}Role/Resource`,
    id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
    reason: ENI_REASON,
  })),
  ...FUNCTIONS.map((f) => ({
    path: `${f}Function/Resource`,
    id: 'AwsSolutions::AwsSolutions-L1',
    reason:
      'The functions are written and tested for Node 20 (package.json engines); the default runtime is ' +
      'nodejs22.x, the closest supported LTS (nodejs20.x is deprecated on Lambda). `-c lambdaRuntime=nodejs24.x` ' +
      'selects the latest once the code is tested on it.',
  })),
  {
    path: 'ApiGatewayLogsRole/Resource',
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:${shown(stack.region, 'Region')}:${shown(stack.account, 'AccountId')}:log-group:*]`,
    reason:
      'The account-wide API Gateway logging role (AWS::ApiGateway::Account) writes execution logs to groups ' +
      'API Gateway names itself (API-Gateway-Execution-Logs_<api>/<stage>) and access logs to the configured ' +
      'groups; limited to log groups of this account and region, only API Gateway can assume it.',
  },
  ...(['mtls', 'iam'] as const).map((v) => ({
    path: `${v}Api/Resource`,
    id: 'AwsSolutions::AwsSolutions-APIG2',
    reason:
      'Request validators are declared in the imported OpenAPI body (x-amazon-apigateway-request-validators, ' +
      'one per operation), which this rule cannot see; test/infra/api.test.ts pins a validator on every method.',
  })),
];

function find(stack: Stack, path: string): IConstruct {
  let node: IConstruct = stack;
  for (const part of path.split('/')) {
    const child = node.node.tryFindChild(part);
    if (!child) throw new Error(`nag acknowledgement: no construct ${stack.stackName}/${path}`);
    node = child;
  }
  return node;
}

export function acknowledge(stack: Stack, list: readonly Acknowledgement[]): void {
  for (const a of list)
    Validations.of(find(stack, a.path)).acknowledge({ id: a.id, reason: a.reason });
}

export function applySuppressions(data: Stack, api: Stack): void {
  acknowledge(data, DATA_ACKNOWLEDGEMENTS);
  acknowledge(api, apiAcknowledgements(api));
}
