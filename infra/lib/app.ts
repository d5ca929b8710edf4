// Builds the whole CDK app from validated context: the data stack, the API
// stack, and cdk-nag's AwsSolutions checks over both (IaC policy as code).
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { fileURLToPath } from 'node:url';
import { ApiStack } from './api-stack.js';
import { readConfig } from './config.js';
import { DataStack } from './data-stack.js';
import { applySuppressions } from './nag-suppressions.js';
import { loadContract } from './openapi-spec.js';

export const CONTRACT_PATH = fileURLToPath(
  new URL('../../openapi/vulnvault.yaml', import.meta.url),
);

export interface VulnvaultApp {
  app: App;
  data: DataStack;
  api: ApiStack;
}

/**
 * Feature flags the app is written for, set in code so `cdk synth`, `npm run
 * synth` and the tests build the same templates.
 */
export const FEATURE_FLAGS: Record<string, unknown> = {
  '@aws-cdk/aws-apigateway:disableCloudWatchRole': true,
  '@aws-cdk/aws-lambda-nodejs:useLatestRuntimeVersion': false,
  '@aws-cdk/core:checkSecretUsage': true,
  // Cross-stack references (data stack → API stack) stay CloudFormation exports.
  '@aws-cdk/core:defaultCrossStackReferences': 'strong',
};

export function buildApp(props?: AppProps): VulnvaultApp {
  const app = new App({ ...props, postCliContext: { ...FEATURE_FLAGS, ...props?.postCliContext } });
  const config = readConfig((k) => app.node.tryGetContext(k) as unknown);
  const env = {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.CDK_DEFAULT_REGION,
  };
  const data = new DataStack(app, 'VulnvaultData', config, {
    env,
    description: 'vulnvault: data key, tables, trust and log buckets, CloudTrail, backups',
  });
  const api = new ApiStack(app, 'VulnvaultApi', config, data, loadContract(CONTRACT_PATH), {
    env,
    description: 'vulnvault: VPC, functions, mTLS and IAM REST APIs, WAF',
  });
  api.addStackDependency(data);
  applySuppressions(data, api);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, data, api };
}
