// The stateful half, deployed first: the data key, the tables, the trust and
// log buckets, the page-cursor secret, CloudTrail and AWS Backup. The truststore PEM must be uploaded
// to the trust bucket before the API stack (its mTLS domain) can be created.
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { createTrail } from './audit-trail.js';
import { createBackup } from './backup.js';
import { createLogBucket, createTrustBucket } from './buckets.js';
import type { DeployConfig } from './config.js';
import { createCursorSecret } from './cursor-secret.js';
import { createDataKey } from './key.js';
import { createTables, type Tables } from './tables.js';

export class DataStack extends Stack {
  readonly key: kms.Key;
  readonly tables: Tables;
  readonly trustBucket: s3.Bucket;
  readonly logBucket: s3.Bucket;
  readonly cursorSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, config: DeployConfig, props?: StackProps) {
    super(scope, id, props);
    this.key = createDataKey(this, config.keyAdminRoleArns);
    this.tables = createTables(this, this.key);
    this.trustBucket = createTrustBucket(this, this.key);
    this.logBucket = createLogBucket(this, this.key, config.logRetentionDays);
    this.cursorSecret = createCursorSecret(this, this.key);
    const tableList: dynamodb.Table[] = [...this.tables.values()];
    createTrail(this, {
      key: this.key,
      logBucket: this.logBucket,
      trustBucket: this.trustBucket,
      tableArns: tableList.map((t) => t.tableArn),
    });
    createBackup(this, this.key, tableList, config.backupCopyVaultArn);

    new CfnOutput(this, 'TrustBucketName', {
      value: this.trustBucket.bucketName,
      description: `upload the CA bundle to s3://BUCKET/${config.truststoreKey} and the CRL to ${config.crlKey}`,
    });
    new CfnOutput(this, 'DataKeyArn', { value: this.key.keyArn });
    new CfnOutput(this, 'CursorSecretArn', {
      value: this.cursorSecret.secretArn,
      description: 'the page-cursor secret; rotate it as README "Deploy to AWS" says',
    });
  }
}
