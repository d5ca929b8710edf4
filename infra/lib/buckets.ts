// The two buckets: the trust bucket (mTLS truststore PEM for API Gateway and
// the CRL the authorizer checks) and the log bucket (CloudTrail). Both are
// encrypted with the data key, versioned, TLS-only and private.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/** Nobody, whatever their IAM permissions, deletes a log object, version or the bucket. */
export const LOG_DELETE_ACTIONS = ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:DeleteBucket'];

const common = (key: kms.IKey): s3.BucketProps => ({
  encryption: s3.BucketEncryption.KMS,
  encryptionKey: key,
  // With a bucket key the KMS encryption context is the bucket ARN, which the
  // roles' kms:Decrypt condition names.
  bucketKeyEnabled: true,
  versioned: true,
  enforceSSL: true,
  minimumTLSVersion: 1.2,
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
  removalPolicy: RemovalPolicy.RETAIN,
});

export function createTrustBucket(scope: Construct, key: kms.IKey): s3.Bucket {
  return new s3.Bucket(scope, 'TrustBucket', {
    ...common(key),
    lifecycleRules: [
      // Old truststore/CRL versions are only needed to roll back a bad upload.
      { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(90) },
    ],
  });
}

export function createLogBucket(scope: Construct, key: kms.IKey, retentionDays: number): s3.Bucket {
  const bucket = new s3.Bucket(scope, 'LogBucket', {
    ...common(key),
    lifecycleRules: [
      {
        id: 'log-retention',
        expiration: Duration.days(retentionDays),
        // An overwritten log object keeps its original as a noncurrent version
        // for the whole retention period (deletes are denied, overwrites are
        // not; CloudTrail's digest files reveal them).
        noncurrentVersionExpiration: Duration.days(retentionDays),
      },
    ],
  });
  // Lifecycle expiry is done by S3 itself and is not subject to this policy.
  bucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyLogDeletion',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: LOG_DELETE_ACTIONS,
      resources: [bucket.bucketArn, bucket.arnForObjects('*')],
    }),
  );
  return bucket;
}
