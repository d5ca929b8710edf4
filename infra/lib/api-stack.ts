// The serving half, deployed after the truststore is in the trust bucket:
// network, functions, the two APIs with their domains, and the WAF.
import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { createApis, type VulnvaultApi } from './apis.js';
import type { DeployConfig } from './config.js';
import type { DataStack } from './data-stack.js';
import { createFunctions, type Functions } from './functions.js';
import { createNetwork } from './network.js';
import type { ApiVariant } from './openapi-spec.js';
import { tableOf } from './tables.js';
import { createWaf } from './waf.js';
import { TABLES } from '../../src/adapters/dynamodb/table-design.js';

export class ApiStack extends Stack {
  readonly functions: Functions;
  readonly apis: Record<ApiVariant, VulnvaultApi>;

  constructor(
    scope: Construct,
    id: string,
    config: DeployConfig,
    data: DataStack,
    contract: Record<string, unknown>,
    props?: StackProps,
  ) {
    super(scope, id, props);
    const tableResourceArns = TABLES.flatMap((d) => {
      const arn = tableOf(data.tables, d).tableArn;
      return [arn, ...d.globalSecondaryIndexes.map((i) => `${arn}/index/${i.indexName}`)];
    });
    const network = createNetwork(this, {
      key: data.key,
      tableResourceArns,
      trustObjectArns: [
        data.trustBucket.arnForObjects(config.truststoreKey),
        data.trustBucket.arnForObjects(config.crlKey),
      ],
      logRetentionDays: config.logRetentionDays,
    });
    this.functions = createFunctions(this, {
      config,
      key: data.key,
      tables: data.tables,
      trustBucket: data.trustBucket,
      cursorSecret: data.cursorSecret,
      network,
    });
    this.apis = createApis(this, {
      config,
      key: data.key,
      trustBucket: data.trustBucket,
      functions: this.functions,
      contract,
    });
    createWaf(this, {
      allowedCidrs: config.allowedCidrs,
      rateLimit: config.wafRateLimit,
      stageArns: Object.values(this.apis).map((a) => a.api.deploymentStage.stageArn),
    });
  }
}
