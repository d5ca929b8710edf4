// Pins every control of the data stack (DP 1.1–1.3, LO 1.2–1.5): removing one
// from infra/ fails a test here. The app is synthesized once for the file.
import { Match } from 'aws-cdk-lib/assertions';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { TABLES } from '../../src/adapters/dynamodb/table-design.js';
import { EXAMPLE_CONTEXT, asList, only, resources, synthesize, type Synthesized } from './synth.js';

let s: Synthesized;
before(() => {
  s = synthesize();
});

const keyRef = () => {
  const [id] = resources(s.dataTemplate, 'AWS::KMS::Key')[0]!;
  return id;
};

describe('data stack: the customer-managed key (DP 1.1/1.2)', () => {
  it('is one symmetric key with automatic rotation, kept when the stack is deleted', () => {
    const key = only(s.dataTemplate, 'AWS::KMS::Key');
    assert.equal(key.Properties.EnableKeyRotation, true);
    assert.equal(key.DeletionPolicy, 'Retain');
    assert.equal(key.Properties.PendingWindowInDays, 30);
  });

  it('denies deletion, disabling and policy changes to everyone but the key admins (and the deploy role)', () => {
    const statements = only(s.dataTemplate, 'AWS::KMS::Key').Properties.KeyPolicy
      .Statement as any[];
    const deny = statements.filter((st) => st.Effect === 'Deny');
    assert.equal(deny.length, 1);
    const d = deny[0];
    assert.deepEqual(d.Principal, { AWS: '*' });
    assert.deepEqual(
      new Set(asList(d.Action)),
      new Set([
        'kms:ScheduleKeyDeletion',
        'kms:DisableKey',
        'kms:PutKeyPolicy',
        'kms:DisableKeyRotation',
      ]),
    );
    const exempt = asList(d.Condition.ArnNotLike['aws:PrincipalArn']);
    assert.equal(exempt[0], EXAMPLE_CONTEXT.keyAdminRoleArns);
    assert.equal(
      exempt.length,
      2,
      'the key admins and the CloudFormation execution role, nobody else',
    );
    assert.match(JSON.stringify(exempt[1]), /cdk-hnb659fds-cfn-exec-role/);
  });

  it('lets the named key admins administer the key', () => {
    const statements = only(s.dataTemplate, 'AWS::KMS::Key').Properties.KeyPolicy
      .Statement as any[];
    const admin = statements.find((st) => st.Sid === 'AllowKeyAdministration');
    assert.deepEqual(admin.Principal, { AWS: EXAMPLE_CONTEXT.keyAdminRoleArns });
    assert.ok(asList(admin.Action).includes('kms:ScheduleKeyDeletion'));
  });

  it('lets CloudWatch Logs and CloudTrail use it only for this account', () => {
    const statements = only(s.dataTemplate, 'AWS::KMS::Key').Properties.KeyPolicy
      .Statement as any[];
    const logs = statements.find((st) => st.Sid === 'AllowCloudWatchLogs');
    assert.ok(logs.Condition.ArnLike['kms:EncryptionContext:aws:logs:arn']);
    const trail = statements.find((st) => st.Sid === 'AllowCloudTrailEncrypt');
    assert.deepEqual(trail.Principal, { Service: 'cloudtrail.amazonaws.com' });
    assert.ok(trail.Condition.StringLike['kms:EncryptionContext:aws:cloudtrail:arn']);
  });
});

describe('data stack: tables from the shared table design', () => {
  it('creates exactly the designed tables with their keys, indexes and TTL', () => {
    const tables = resources(s.dataTemplate, 'AWS::DynamoDB::Table');
    assert.equal(tables.length, TABLES.length);
    for (const design of TABLES) {
      const found = tables.find(([id]) => id.startsWith(design.logicalId));
      assert.ok(found, `table ${design.logicalId}`);
      const p = found[1].Properties;
      const keys = [
        { AttributeName: design.partitionKey.name, KeyType: 'HASH' },
        ...(design.sortKey ? [{ AttributeName: design.sortKey.name, KeyType: 'RANGE' }] : []),
      ];
      assert.deepEqual(p.KeySchema, keys);
      assert.deepEqual(
        (p.GlobalSecondaryIndexes ?? []).map((g: any) => g.IndexName),
        design.globalSecondaryIndexes.map((g) => g.indexName),
      );
      if (design.timeToLiveAttribute) {
        assert.deepEqual(p.TimeToLiveSpecification, {
          AttributeName: design.timeToLiveAttribute,
          Enabled: true,
        });
      } else {
        assert.equal(p.TimeToLiveSpecification, undefined);
      }
    }
  });

  it('encrypts every table with the customer-managed key, with PITR and deletion protection', () => {
    for (const [id, t] of resources(s.dataTemplate, 'AWS::DynamoDB::Table')) {
      const p = t.Properties;
      assert.deepEqual(
        p.SSESpecification,
        { KMSMasterKeyId: { 'Fn::GetAtt': [keyRef(), 'Arn'] }, SSEEnabled: true, SSEType: 'KMS' },
        id,
      );
      assert.equal(p.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled, true, id);
      assert.equal(p.DeletionProtectionEnabled, true, id);
      assert.equal(t.DeletionPolicy, 'Retain', id);
    }
  });
});

describe('data stack: buckets', () => {
  const bucket = (prefix: string) => {
    const found = resources(s.dataTemplate, 'AWS::S3::Bucket').find(([id]) =>
      id.startsWith(prefix),
    );
    assert.ok(found, prefix);
    return found;
  };

  it('keeps the mTLS truststore in a versioned, KMS-encrypted, private bucket', () => {
    for (const prefix of ['TrustBucket', 'LogBucket']) {
      const [, b] = bucket(prefix);
      assert.equal(b.Properties.VersioningConfiguration.Status, 'Enabled', prefix);
      const rule = b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0];
      assert.deepEqual(rule.ServerSideEncryptionByDefault, {
        KMSMasterKeyID: { 'Fn::GetAtt': [keyRef(), 'Arn'] },
        SSEAlgorithm: 'aws:kms',
      });
      assert.deepEqual(b.Properties.PublicAccessBlockConfiguration, {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    }
  });

  it('denies deleting log objects, versions or the log bucket to every principal', () => {
    const [logId] = bucket('LogBucket');
    const policy = resources(s.dataTemplate, 'AWS::S3::BucketPolicy').find(
      ([, p]) => p.Properties.Bucket.Ref === logId,
    );
    assert.ok(policy);
    const deny = (policy[1].Properties.PolicyDocument.Statement as any[]).find(
      (st) => st.Sid === 'DenyLogDeletion',
    );
    assert.equal(deny.Effect, 'Deny');
    assert.deepEqual(deny.Principal, { AWS: '*' });
    assert.deepEqual(
      new Set(asList(deny.Action)),
      new Set(['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:DeleteBucket']),
    );
    assert.equal(deny.Condition, undefined, 'unconditional');
  });

  it('expires log objects after the retention period (lifecycle rule)', () => {
    const [, b] = bucket('LogBucket');
    const rule = b.Properties.LifecycleConfiguration.Rules.find(
      (r: any) => r.Id === 'log-retention',
    );
    assert.equal(rule.ExpirationInDays, 365);
    assert.equal(
      rule.NoncurrentVersionExpiration.NoncurrentDays,
      365,
      'overwritten originals kept as long',
    );
    assert.equal(rule.Status, 'Enabled');
  });
});

describe('data stack: CloudTrail (LO 1.2/1.3)', () => {
  it('writes encrypted, validated logs of every region to the log bucket', () => {
    const trail = only(s.dataTemplate, 'AWS::CloudTrail::Trail').Properties;
    assert.equal(trail.EnableLogFileValidation, true);
    assert.equal(trail.IsMultiRegionTrail, true);
    assert.deepEqual(trail.KMSKeyId, { 'Fn::GetAtt': [keyRef(), 'Arn'] });
    assert.equal(trail.EventSelectors, undefined, 'advanced selectors only');
  });

  it('selects data events of the functions, the tables and the buckets with advanced event selectors', () => {
    const selectors = only(s.dataTemplate, 'AWS::CloudTrail::Trail').Properties
      .AdvancedEventSelectors as any[];
    const byType = (type: string) =>
      selectors.filter((sel) =>
        sel.FieldSelectors.some(
          (f: any) => f.Field === 'resources.type' && f.Equals?.includes(type),
        ),
      );
    assert.ok(
      selectors.some((sel) =>
        sel.FieldSelectors.some((f: any) => f.Equals?.includes('Management')),
      ),
      'management events',
    );
    const lambda = byType('AWS::Lambda::Function');
    assert.equal(lambda.length, 1);
    assert.match(JSON.stringify(lambda[0]), /function:vulnvault-/);
    const tables = byType('AWS::DynamoDB::Table');
    assert.equal(tables.length, 1);
    const arns = tables[0].FieldSelectors.find((f: any) => f.Field === 'resources.ARN').Equals;
    assert.equal(arns.length, TABLES.length);
    const s3 = byType('AWS::S3::Object');
    const s3Text = JSON.stringify(s3);
    assert.match(s3Text, /TrustBucket/);
    assert.match(s3Text, /LogBucket/);
  });
});

describe('data stack: AWS Backup (DP 1.3)', () => {
  it('backs up every table daily and copies each recovery point to the vault in another region', () => {
    const plan = only(s.dataTemplate, 'AWS::Backup::BackupPlan').Properties.BackupPlan;
    const rule = plan.BackupPlanRule[0];
    assert.equal(rule.Lifecycle.DeleteAfterDays, 35);
    assert.deepEqual(rule.CopyActions, [
      {
        DestinationBackupVaultArn: EXAMPLE_CONTEXT.backupCopyVaultArn,
        Lifecycle: { DeleteAfterDays: 35 },
      },
    ]);
    const selection = only(s.dataTemplate, 'AWS::Backup::BackupSelection').Properties
      .BackupSelection;
    assert.equal(selection.Resources.length, TABLES.length);
  });

  it('keeps recovery points in a vault encrypted with the key and locked', () => {
    s.dataTemplate.hasResourceProperties('AWS::Backup::BackupVault', {
      EncryptionKeyArn: { 'Fn::GetAtt': [keyRef(), 'Arn'] },
      LockConfiguration: { MinRetentionDays: 7 },
    });
    s.dataTemplate.hasResource(
      'AWS::Backup::BackupVault',
      Match.objectLike({ DeletionPolicy: 'Retain' }),
    );
  });
});
