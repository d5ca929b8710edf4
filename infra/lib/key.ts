// The customer-managed KMS key (DP 1.1/1.2) that encrypts every table, bucket,
// log group and backup vault. Rotation is on; a Deny in the key policy keeps
// everyone but the named key admins from deleting or disabling the key or
// changing its policy, whatever their IAM permissions say.
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/** The operations the Deny protects: lose the key, lose the data. */
export const KEY_LIFECYCLE_ACTIONS = [
  'kms:ScheduleKeyDeletion',
  'kms:DisableKey',
  'kms:PutKeyPolicy',
  'kms:DisableKeyRotation',
];

export const KEY_ADMIN_ACTIONS = [
  'kms:Create*',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:RotateKeyOnDemand',
];

/**
 * The role CloudFormation deploys with (CDK bootstrap, default qualifier).
 * It must stay able to put the key policy, or KMS refuses the policy
 * ("lockout safety check") and the stack can never update it again.
 */
export function cfnExecutionRoleArn(stack: Stack): string {
  return `arn:${stack.partition}:iam::${stack.account}:role/cdk-hnb659fds-cfn-exec-role-${stack.account}-${stack.region}`;
}

export function createDataKey(scope: Construct, keyAdminRoleArns: readonly string[]): kms.Key {
  const stack = Stack.of(scope);
  const key = new kms.Key(scope, 'DataKey', {
    alias: 'alias/vulnvault-data',
    description: 'vulnvault: tables, buckets, logs and backups',
    enableKeyRotation: true,
    rotationPeriod: Duration.days(365),
    pendingWindow: Duration.days(30),
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const exempt = [...keyAdminRoleArns, cfnExecutionRoleArn(stack)];
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyKeyLifecycleChangesExceptKeyAdmins',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: KEY_LIFECYCLE_ACTIONS,
      resources: ['*'],
      conditions: { ArnNotLike: { 'aws:PrincipalArn': exempt } },
    }),
  );
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowKeyAdministration',
      principals: keyAdminRoleArns.map((a) => new iam.ArnPrincipal(a)),
      actions: KEY_ADMIN_ACTIONS,
      resources: ['*'],
    }),
  );
  // CloudWatch Logs encrypts the log groups of this account and region only.
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogs',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: [
        'kms:Encrypt*',
        'kms:Decrypt*',
        'kms:ReEncrypt*',
        'kms:GenerateDataKey*',
        'kms:Describe*',
      ],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
        },
      },
    }),
  );
  // CloudTrail encrypts the trail's log files; only trails of this account.
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudTrailEncrypt',
      principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
      actions: ['kms:GenerateDataKey*', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: {
        StringLike: {
          'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${stack.partition}:cloudtrail:*:${stack.account}:trail/*`,
        },
        StringEquals: { 'aws:SourceAccount': stack.account },
      },
    }),
  );
  return key;
}
