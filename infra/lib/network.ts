// The functions' network (NS 1.4/1.5): a VPC with isolated subnets only (no
// NAT, no internet route). DynamoDB and S3 are reached through gateway
// endpoints whose policies allow only this app's tables and trust bucket; KMS
// through an interface endpoint limited to the data key. Flow logs on.
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

export interface NetworkProps {
  key: kms.IKey;
  /** Table and index ARNs (the index ARNs named one by one). */
  tableResourceArns: string[];
  /** Object ARNs the functions may read through the S3 endpoint. */
  trustObjectArns: string[];
  logRetentionDays: number;
}

/** Everything the functions do to DynamoDB; the role policies narrow it per function. */
export const DYNAMODB_ENDPOINT_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
];

export interface Network {
  vpc: ec2.Vpc;
  functionSecurityGroup: ec2.SecurityGroup;
  subnets: ec2.SubnetSelection;
}

export function createNetwork(scope: Construct, p: NetworkProps): Network {
  const flowLogGroup = new logs.LogGroup(scope, 'FlowLogs', {
    encryptionKey: p.key,
    retention: p.logRetentionDays as logs.RetentionDays,
  });
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    ipAddresses: ec2.IpAddresses.cidr('10.42.0.0/16'),
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [
      { name: 'functions', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
    ],
    flowLogs: {
      all: {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
        trafficType: ec2.FlowLogTrafficType.ALL,
      },
    },
  });
  const subnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };

  const dynamo = vpc.addGatewayEndpoint('DynamoDbEndpoint', {
    service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
    subnets: [subnets],
  });
  dynamo.addToPolicy(
    new iam.PolicyStatement({
      sid: 'OnlyThisAppsTables',
      principals: [new iam.AnyPrincipal()],
      actions: DYNAMODB_ENDPOINT_ACTIONS,
      resources: p.tableResourceArns,
    }),
  );
  const s3 = vpc.addGatewayEndpoint('S3Endpoint', {
    service: ec2.GatewayVpcEndpointAwsService.S3,
    subnets: [subnets],
  });
  s3.addToPolicy(
    new iam.PolicyStatement({
      sid: 'OnlyTheTrustObjects',
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:GetObject'],
      resources: p.trustObjectArns,
    }),
  );

  const functionSecurityGroup = new ec2.SecurityGroup(scope, 'FunctionSg', {
    vpc,
    description: 'vulnvault functions: HTTPS out to the VPC endpoints only',
    allowAllOutbound: false,
  });
  // Isolated subnets have no route beyond the endpoints; 443 is all they speak.
  functionSecurityGroup.addEgressRule(
    ec2.Peer.anyIpv4(),
    ec2.Port.tcp(443),
    'HTTPS to VPC endpoints',
  );

  const endpointSg = new ec2.SecurityGroup(scope, 'KmsEndpointSg', {
    vpc,
    description: 'KMS interface endpoint: HTTPS from the functions only',
    allowAllOutbound: false,
  });
  endpointSg.addIngressRule(functionSecurityGroup, ec2.Port.tcp(443), 'HTTPS from the functions');
  const kmsEndpoint = vpc.addInterfaceEndpoint('KmsEndpoint', {
    service: ec2.InterfaceVpcEndpointAwsService.KMS,
    subnets,
    privateDnsEnabled: true,
    securityGroups: [endpointSg],
    open: false,
  });
  kmsEndpoint.addToPolicy(
    new iam.PolicyStatement({
      sid: 'OnlyTheDataKey',
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: [p.key.keyArn],
    }),
  );
  return { vpc, functionSecurityGroup, subnets };
}
