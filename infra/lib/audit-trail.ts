// CloudTrail (LO 1.2/1.3): management events plus data events for the
// functions, the tables and the buckets, chosen with advanced event selectors,
// written encrypted and validated (digest files) to the log bucket.
import { Stack } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { FUNCTION_NAME_PREFIX, TRAIL_PREFIX } from './names.js';

interface TrailProps {
  key: kms.IKey;
  logBucket: s3.IBucket;
  trustBucket: s3.IBucket;
  tableArns: string[];
}

const field = (name: string, op: Record<string, string[]>) => ({ Field: name, ...op });

export function advancedEventSelectors(stack: Stack, p: TrailProps) {
  const fnPrefix = `arn:${stack.partition}:lambda:${stack.region}:${stack.account}:function:${FUNCTION_NAME_PREFIX}`;
  return [
    { Name: 'management', FieldSelectors: [field('eventCategory', { Equals: ['Management'] })] },
    {
      Name: 'lambda-invocations',
      FieldSelectors: [
        field('eventCategory', { Equals: ['Data'] }),
        field('resources.type', { Equals: ['AWS::Lambda::Function'] }),
        field('resources.ARN', { StartsWith: [fnPrefix] }),
      ],
    },
    {
      Name: 'table-access',
      FieldSelectors: [
        field('eventCategory', { Equals: ['Data'] }),
        field('resources.type', { Equals: ['AWS::DynamoDB::Table'] }),
        field('resources.ARN', { Equals: p.tableArns }),
      ],
    },
    {
      Name: 'trust-bucket-objects',
      FieldSelectors: [
        field('eventCategory', { Equals: ['Data'] }),
        field('resources.type', { Equals: ['AWS::S3::Object'] }),
        field('resources.ARN', { StartsWith: [`${p.trustBucket.bucketArn}/`] }),
      ],
    },
    {
      // Every read or write here would itself be logged into this bucket (a
      // loop), so only the attempts to remove or re-permission log objects.
      Name: 'log-bucket-deletions',
      FieldSelectors: [
        field('eventCategory', { Equals: ['Data'] }),
        field('resources.type', { Equals: ['AWS::S3::Object'] }),
        field('resources.ARN', { StartsWith: [`${p.logBucket.bucketArn}/`] }),
        field('eventName', {
          Equals: [
            'DeleteObject',
            'DeleteObjects',
            'PutObjectAcl',
            'PutObjectRetention',
            'PutObjectLegalHold',
          ],
        }),
      ],
    },
  ];
}

export function createTrail(scope: Construct, p: TrailProps): cloudtrail.Trail {
  const trail = new cloudtrail.Trail(scope, 'Trail', {
    bucket: p.logBucket,
    s3KeyPrefix: TRAIL_PREFIX,
    encryptionKey: p.key,
    enableFileValidation: true,
    isMultiRegionTrail: true,
    includeGlobalServiceEvents: true,
  });
  const cfn = trail.node.defaultChild as cloudtrail.CfnTrail;
  // The L2 construct has no advanced selectors; they replace EventSelectors.
  // CloudTrail refuses a trail with both kinds, even when EventSelectors is empty.
  cfn.addPropertyOverride('AdvancedEventSelectors', advancedEventSelectors(Stack.of(scope), p));
  cfn.addPropertyDeletionOverride('EventSelectors');
  return trail;
}
