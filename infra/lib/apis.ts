// The two REST APIs built from openapi/vulnvault.yaml: the mTLS API (client
// certificates checked by the custom domain, a Lambda REQUEST authorizer on
// every method) and the IAM API (every method AWS_IAM, the functions authorize
// the caller's role). Both: default endpoint disabled, Regional custom domain,
// source-IP resource policy, access logs, stage throttling and a usage plan.
import { CfnOutput, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { DeployConfig } from './config.js';
import type { Functions } from './functions.js';
import { STAGE_NAME } from './names.js';
import { apiGatewaySpec, type ApiVariant } from './openapi-spec.js';

export interface ApisProps {
  config: DeployConfig;
  key: kms.IKey;
  trustBucket: s3.IBucket;
  functions: Functions;
  contract: Record<string, unknown>;
}

export interface VulnvaultApi {
  api: apigw.SpecRestApi;
  domain: apigw.DomainName;
}

/** One JSON line per request, like the local access log; no bodies, no query strings. */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  time: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  method: '$context.httpMethod',
  route: '$context.resourcePath',
  status: '$context.status',
  bytesOut: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  protocol: '$context.protocol',
  principal: '$context.authorizer.principalId',
  caller: '$context.identity.userArn',
  certSerial: '$context.identity.clientCert.serialNumber',
  certIssuer: '$context.identity.clientCert.issuerDN',
  authorizerError: '$context.authorizer.error',
  error: '$context.error.responseType',
  wafStatus: '$context.waf.status',
};

function resourcePolicy(
  stack: Stack,
  variant: ApiVariant,
  config: DeployConfig,
): iam.PolicyDocument {
  const callers =
    variant === 'iam'
      ? [stack.account, ...config.iamCallerAccountIds].map((a) => new iam.AccountPrincipal(a))
      : [new iam.AnyPrincipal()];
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: variant === 'iam' ? 'AllowSignedCallersOfNamedAccounts' : 'AllowInvoke',
        principals: callers,
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
      }),
      new iam.PolicyStatement({
        sid: 'DenyOutsideAllowedSources',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
        conditions: { NotIpAddress: { 'aws:SourceIp': config.allowedCidrs } },
      }),
    ],
  });
}

/** NS 1.2: TLS_1_2 by default; `-c tlsPolicy=TLS_1_3` selects the TLS 1.3-only enhanced policy. */
export function domainTlsSettings(config: DeployConfig) {
  return config.tlsPolicy === 'TLS_1_3'
    ? {
        securityPolicy: apigw.SecurityPolicy.TLS13_1_3_2025_09,
        endpointAccessMode: apigw.EndpointAccessMode.STRICT,
      }
    : { securityPolicy: apigw.SecurityPolicy.TLS_1_2 };
}

export function createApis(scope: Construct, p: ApisProps): Record<ApiVariant, VulnvaultApi> {
  const stack = Stack.of(scope);
  const invokeUri = (fn: lambda.IFunction) =>
    `arn:${stack.partition}:apigateway:${stack.region}:lambda:path/2015-03-31/functions/${fn.functionArn}/invocations`;

  // API Gateway writes access and execution logs with an account-wide role.
  const logsRole = new iam.Role(scope, 'ApiGatewayLogsRole', {
    assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
    inlinePolicies: {
      pushLogs: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            actions: [
              'logs:CreateLogGroup',
              'logs:CreateLogStream',
              'logs:DescribeLogGroups',
              'logs:DescribeLogStreams',
              'logs:PutLogEvents',
            ],
            resources: [`arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`],
          }),
        ],
      }),
    },
  });
  const account = new apigw.CfnAccount(scope, 'ApiGatewayAccount', {
    cloudWatchRoleArn: logsRole.roleArn,
  });

  const make = (variant: ApiVariant): VulnvaultApi => {
    const accessLogs = new logs.LogGroup(scope, `${variant}AccessLogs`, {
      encryptionKey: p.key,
      retention: p.config.logRetentionDays as logs.RetentionDays,
    });
    const spec = apiGatewaySpec(p.contract, {
      variant,
      queryInvokeUri: invokeUri(p.functions.query),
      ingestInvokeUri: invokeUri(p.functions.ingest),
      triageInvokeUri: invokeUri(p.functions.triage),
      authorizerInvokeUri: variant === 'mtls' ? invokeUri(p.functions.authorizer) : undefined,
    });
    const api = new apigw.SpecRestApi(scope, `${variant}Api`, {
      restApiName: `vulnvault-${variant}`,
      apiDefinition: apigw.ApiDefinition.fromInline(spec),
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // NS 1.3: only the custom domain (with mTLS for this variant) answers.
      disableExecuteApiEndpoint: true,
      policy: resourcePolicy(stack, variant, p.config),
      cloudWatchRole: false,
      deployOptions: {
        stageName: STAGE_NAME,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        // Never log request or response bodies (finding contents).
        dataTraceEnabled: false,
        metricsEnabled: true,
        throttlingRateLimit: p.config.throttleRate,
        throttlingBurstLimit: p.config.throttleBurst,
      },
    });
    api.deploymentStage.node.addDependency(account);

    const sourceArn = api.arnForExecuteApi('*', '/*', STAGE_NAME);
    p.functions.query.addPermission(`${variant}InvokeQuery`, {
      principal: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      sourceArn,
    });
    p.functions.ingest.addPermission(`${variant}InvokeIngest`, {
      principal: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      sourceArn,
    });
    p.functions.triage.addPermission(`${variant}InvokeTriage`, {
      principal: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      sourceArn,
    });
    if (variant === 'mtls') {
      p.functions.authorizer.addPermission('mtlsInvokeAuthorizer', {
        principal: new iam.ServicePrincipal('apigateway.amazonaws.com'),
        sourceArn: `arn:${stack.partition}:execute-api:${stack.region}:${stack.account}:${api.restApiId}/authorizers/*`,
      });
    }

    new apigw.UsagePlan(scope, `${variant}UsagePlan`, {
      name: `vulnvault-${variant}`,
      throttle: { rateLimit: p.config.throttleRate, burstLimit: p.config.throttleBurst },
      quota: { limit: p.config.throttleRate * 86400, period: apigw.Period.DAY },
      apiStages: [{ api, stage: api.deploymentStage }],
    });

    const domainName = variant === 'mtls' ? p.config.domainName : p.config.iamDomainName;
    const certificateArn =
      variant === 'mtls' ? p.config.certificateArn : p.config.iamCertificateArn;
    const domain = new apigw.DomainName(scope, `${variant}Domain`, {
      domainName,
      certificate: acm.Certificate.fromCertificateArn(
        scope,
        `${variant}Certificate`,
        certificateArn,
      ),
      endpointType: apigw.EndpointType.REGIONAL,
      ...domainTlsSettings(p.config),
      mtls:
        variant === 'mtls'
          ? {
              bucket: p.trustBucket,
              key: p.config.truststoreKey,
              version: p.config.truststoreVersion,
            }
          : undefined,
    });
    domain.addBasePathMapping(api, { stage: api.deploymentStage });
    new CfnOutput(scope, `${variant}DomainTarget`, {
      value: domain.domainNameAliasDomainName,
      description: `point ${domainName} (CNAME or alias) here`,
    });
    return { api, domain };
  };
  return { mtls: make('mtls'), iam: make('iam') };
}
