// Pins every control of the API stack (IAM 1.1–1.3, NS 1.1–1.5, CSH 1.1/1.2,
// LO 1.2) and the IAM-authorized variant (IAM 1.1b): removing one from infra/
// fails a test here. The app is synthesized once for the file.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { readConfig } from '../../infra/lib/config.js';
import { domainTlsSettings } from '../../infra/lib/apis.js';
import { EXAMPLE_CONTEXT, asList, only, resources, synthesize, type Synthesized } from './synth.js';

let s: Synthesized;
before(() => {
  s = synthesize();
});

const ENI = [
  'ec2:AssignPrivateIpAddresses',
  'ec2:CreateNetworkInterface',
  'ec2:DeleteNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:UnassignPrivateIpAddresses',
];

/** The least-privilege contract, written out: (Sid → sorted actions) per function. */
const EXPECTED: Record<string, Record<string, string[]>> = {
  authorizer: {
    OwnLogGroup: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    VpcNetworkInterfaces: ENI,
    TablePolicies: ['dynamodb:GetItem', 'dynamodb:Query'],
    KeyViaDynamoDb: ['kms:Decrypt'],
    TruststoreAndCrl: ['s3:GetObject'],
    KeyViaS3: ['kms:Decrypt'],
  },
  query: {
    OwnLogGroup: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    VpcNetworkInterfaces: ENI,
    TableFindings: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'],
    TableFeeds: ['dynamodb:BatchGetItem', 'dynamodb:GetItem'],
    TablePolicies: ['dynamodb:GetItem', 'dynamodb:Query'],
    KeyViaDynamoDb: ['kms:Decrypt'],
    EnvelopeDataKeys: ['kms:Decrypt'],
  },
  ingest: {
    OwnLogGroup: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    VpcNetworkInterfaces: ENI,
    TableFindings: [
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ],
    TableIdempotencyKeys: [
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ],
    TablePolicies: ['dynamodb:GetItem', 'dynamodb:Query'],
    KeyViaDynamoDb: ['kms:Decrypt'],
    EnvelopeDataKeys: ['kms:Decrypt', 'kms:GenerateDataKey'],
  },
  triage: {
    OwnLogGroup: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    VpcNetworkInterfaces: ENI,
    TableFindings: [
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ],
    TableFeeds: ['dynamodb:BatchGetItem', 'dynamodb:GetItem'],
    TablePolicies: ['dynamodb:GetItem', 'dynamodb:Query'],
    KeyViaDynamoDb: ['kms:Decrypt'],
    EnvelopeDataKeys: ['kms:Decrypt'],
  },
};
const FUNCTIONS = Object.keys(EXPECTED);

const fn = (name: string) => {
  const found = resources(s.apiTemplate, 'AWS::Lambda::Function').find(
    ([, f]) => f.Properties.FunctionName === `vulnvault-${name}`,
  );
  assert.ok(found, name);
  return found[1];
};
const roleOf = (name: string) => {
  const roleId = fn(name).Properties.Role['Fn::GetAtt'][0];
  return s.apiTemplate.toJSON().Resources[roleId];
};
const statementsOf = (name: string) =>
  roleOf(name).Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement) as any[];
const text = (v: unknown) => JSON.stringify(v);

describe('api stack: one least-privilege role per function (IAM 1.3)', () => {
  for (const name of Object.keys(EXPECTED)) {
    it(`${name}: has exactly the expected statements and no managed policies`, () => {
      const role = roleOf(name);
      assert.equal(role.Properties.ManagedPolicyArns, undefined);
      assert.deepEqual(role.Properties.AssumeRolePolicyDocument.Statement[0].Principal, {
        Service: 'lambda.amazonaws.com',
      });
      const got = Object.fromEntries(
        statementsOf(name).map((st) => {
          assert.equal(st.Effect, 'Allow');
          return [st.Sid, (asList(st.Action) as string[]).slice().sort()];
        }),
      );
      assert.deepEqual(got, EXPECTED[name]);
      // No role is attached to anything else (AWS::IAM::Policy) behind our back.
      for (const [, p] of resources(s.apiTemplate, 'AWS::IAM::Policy')) {
        assert.ok(!text(p.Properties.Roles).includes(fn(name).Properties.Role['Fn::GetAtt'][0]));
      }
    });
  }

  it('gives every function its own role, and deploys no other function', () => {
    assert.deepEqual(
      resources(s.apiTemplate, 'AWS::Lambda::Function')
        .map(([, f]) => f.Properties.FunctionName)
        .sort(),
      FUNCTIONS.map((n) => `vulnvault-${n}`).sort(),
    );
    const roles = FUNCTIONS.map((n) => text(fn(n).Properties.Role));
    assert.equal(new Set(roles).size, 4);
  });

  it('scopes table statements to the right tables (findings index named, no index/*)', () => {
    const q = statementsOf('query');
    const findings = text(q.find((st) => st.Sid === 'TableFindings').Resource);
    assert.match(findings, /Findings/);
    assert.match(findings, /\/index\/gsi1/);
    assert.doesNotMatch(text(q), /index\/\*/);
    const a = statementsOf('authorizer');
    assert.doesNotMatch(text(a), /Findings|IdempotencyKeys/);
    const i = statementsOf('ingest');
    assert.doesNotMatch(
      text(i.find((st) => st.Sid === 'TableFindings').Resource),
      /Policies|Idempotency/,
    );
    assert.doesNotMatch(text(i), /Feeds/);
    const t = statementsOf('triage');
    const tFindings = text(t.find((st) => st.Sid === 'TableFindings').Resource);
    assert.match(tFindings, /Findings/);
    assert.match(tFindings, /\/index\/gsi1/);
    assert.doesNotMatch(tFindings, /Policies|Idempotency|Feeds/);
    assert.doesNotMatch(text(t), /IdempotencyKeys|index\/\*/);
    // The feeds table has no index; the KEV/EPSS join reads the table only.
    for (const name of ['query', 'triage']) {
      const feeds = statementsOf(name).find((st) => st.Sid === 'TableFeeds');
      assert.equal(asList(feeds.Resource).length, 1, name);
      assert.match(text(feeds.Resource), /Feeds/, name);
    }
  });

  it('lets DynamoDB decrypt for each function only the tables its role names', () => {
    const tables: Record<string, RegExp[]> = {
      authorizer: [/Policies/],
      query: [/Findings/, /Feeds/, /Policies/],
      ingest: [/Findings/, /IdempotencyKeys/, /Policies/],
      triage: [/Findings/, /Feeds/, /Policies/],
    };
    for (const [name, want] of Object.entries(tables)) {
      const st = statementsOf(name).find((x) => x.Sid === 'KeyViaDynamoDb');
      const names = asList(
        st.Condition.StringEquals['kms:EncryptionContext:aws:dynamodb:tableName'],
      );
      assert.equal(names.length, want.length, name);
      for (const re of want)
        assert.ok(
          names.some((n) => re.test(text(n))),
          `${name} ${re}`,
        );
    }
  });

  it('lets the authorizer read only the truststore and CRL objects', () => {
    const st = statementsOf('authorizer').find((x) => x.Sid === 'TruststoreAndCrl');
    const r = text(st.Resource);
    assert.match(r, /truststore\/ca-bundle\.pem/);
    assert.match(r, /crl\/ca\.crl/);
    assert.equal(asList(st.Resource).length, 2);
  });

  it('conditions every KMS permission: via DynamoDB/S3 with their encryption context, or direct with our own context', () => {
    for (const name of Object.keys(EXPECTED)) {
      for (const st of statementsOf(name).filter((x) => text(x.Action).includes('kms:'))) {
        assert.ok(st.Condition, `${name} ${st.Sid} has a condition`);
        const c = text(st.Condition);
        if (st.Sid === 'KeyViaDynamoDb') assert.match(c, /aws:dynamodb:tableName/);
        else if (st.Sid === 'KeyViaS3') assert.match(c, /aws:s3:arn/);
        else {
          assert.equal(st.Condition.Null['kms:EncryptionContextKeys'], 'false');
          assert.equal(st.Condition.Null['kms:ViaService'], 'true');
          assert.deepEqual(
            st.Condition['ForAllValues:StringNotLike']['kms:EncryptionContextKeys'],
            ['aws:*'],
          );
        }
      }
    }
  });
});

describe('api stack: functions', () => {
  it('run in the isolated subnets with the environment of the shared contract', () => {
    for (const name of FUNCTIONS) {
      const p = fn(name).Properties;
      assert.equal(p.VpcConfig.SubnetIds.length, 2, name);
      assert.equal(p.Runtime, 'nodejs22.x');
      assert.deepEqual(
        Object.keys(p.Environment.Variables).sort(),
        [
          'NODE_OPTIONS',
          'VULNVAULT_CRL_KEY',
          ...(name === 'query' ? ['VULNVAULT_CURSOR_SECRET'] : []),
          // Only where the role may read the feeds table.
          ...(name === 'query' || name === 'triage' ? ['VULNVAULT_FEEDS_TABLE'] : []),
          'VULNVAULT_FINDINGS_TABLE',
          'VULNVAULT_IDEMPOTENCY_TABLE',
          'VULNVAULT_KMS_KEY_ID',
          ...(name === 'triage' ? ['VULNVAULT_MAX_RISK_ACCEPTANCE_DAYS'] : []),
          'VULNVAULT_POLICY_TABLE',
          'VULNVAULT_TRUSTSTORE_KEY',
          'VULNVAULT_TRUST_BUCKET',
        ],
        name,
      );
    }
  });

  it('give the triage function its entry, memory and timeout, and the risk-acceptance limit', () => {
    const p = fn('triage').Properties;
    assert.equal(p.Handler, 'index.handler');
    assert.equal(p.MemorySize, 1024);
    assert.equal(p.Timeout, 29);
    assert.equal(p.Architectures[0], 'arm64');
    assert.equal(p.Environment.Variables.VULNVAULT_MAX_RISK_ACCEPTANCE_DAYS, '365');
    assert.match(text(p.Environment.Variables.VULNVAULT_FEEDS_TABLE), /Feeds/);
  });

  it('encrypt their environment with the customer-managed data key', () => {
    for (const name of FUNCTIONS) {
      assert.match(text(fn(name).Properties.KmsKeyArn), /DataKey/, name);
    }
  });

  it('give the query function the page-cursor secret as a Secrets Manager reference, never its value', () => {
    const v = fn('query').Properties.Environment.Variables.VULNVAULT_CURSOR_SECRET;
    assert.deepEqual(v, {
      'Fn::Join': [
        '',
        [
          '{{resolve:secretsmanager:',
          { 'Fn::ImportValue': v['Fn::Join'][1][1]['Fn::ImportValue'] },
          ':SecretString:::}}',
        ],
      ],
    });
    assert.match(text(v), /CursorSecret/);
    assert.equal(
      fn('query').Properties.Environment.Variables.VULNVAULT_CURSOR_SECRET_PREVIOUS,
      undefined,
    );
  });

  it('accept the previous cursor secret (AWSPREVIOUS) only with -c cursorSecretPrevious=true', () => {
    const rotating = synthesize({ cursorSecretPrevious: 'true' });
    const q = resources(rotating.apiTemplate, 'AWS::Lambda::Function').find(
      ([, f]) => f.Properties.FunctionName === 'vulnvault-query',
    );
    assert.ok(q);
    const prev = q[1].Properties.Environment.Variables.VULNVAULT_CURSOR_SECRET_PREVIOUS;
    assert.match(text(prev), /\{\{resolve:secretsmanager:.*:SecretString::AWSPREVIOUS:?\}\}/);
  });

  it('give the triage function the risk-acceptance limit of -c maxRiskAcceptanceDays', () => {
    const limited = synthesize({ maxRiskAcceptanceDays: '30' });
    const t = resources(limited.apiTemplate, 'AWS::Lambda::Function').find(
      ([, f]) => f.Properties.FunctionName === 'vulnvault-triage',
    );
    assert.ok(t);
    assert.equal(t[1].Properties.Environment.Variables.VULNVAULT_MAX_RISK_ACCEPTANCE_DAYS, '30');
  });

  it('give the cursor secret to the query function only', () => {
    for (const name of FUNCTIONS.filter((n) => n !== 'query')) {
      assert.doesNotMatch(text(fn(name).Properties.Environment), /CursorSecret|CURSOR/, name);
    }
  });

  it('are bundled by the local esbuild (an .mjs asset per function)', async () => {
    const { readdirSync } = await import('node:fs');
    const assets = readdirSync(s.outdir).filter((n) => n.startsWith('asset.'));
    assert.equal(assets.length, FUNCTIONS.length);
    for (const a of assets) assert.ok(readdirSync(`${s.outdir}/${a}`).includes('index.mjs'), a);
  });
});

describe('api stack: network (NS 1.4/1.5)', () => {
  it('has no internet or NAT gateway: the subnets are isolated', () => {
    s.apiTemplate.resourceCountIs('AWS::EC2::InternetGateway', 0);
    s.apiTemplate.resourceCountIs('AWS::EC2::NatGateway', 0);
    s.apiTemplate.resourceCountIs('AWS::EC2::Route', 0);
  });

  const endpoint = (service: string) => {
    const found = resources(s.apiTemplate, 'AWS::EC2::VPCEndpoint').find(([, e]) =>
      text(e.Properties.ServiceName).includes(service),
    );
    assert.ok(found, service);
    return found[1].Properties;
  };

  it('limits the DynamoDB gateway endpoint to this app’s tables and named index', () => {
    const e = endpoint('.dynamodb');
    assert.equal(e.VpcEndpointType ?? 'Gateway', 'Gateway');
    const [st, ...rest] = e.PolicyDocument.Statement;
    assert.equal(rest.length, 0);
    const r = text(st.Resource);
    for (const t of ['Findings', 'Policies', 'IdempotencyKeys', 'Feeds']) {
      assert.match(r, new RegExp(t));
    }
    assert.match(r, /index\/gsi1/);
    // gsi2: the risk-acceptance expiry index of the triage sweep.
    assert.match(r, /index\/gsi2/);
    assert.equal(asList(st.Resource).length, 6);
    assert.doesNotMatch(text(st.Action), /dynamodb:\*|Scan|DeleteTable/);
    // Every action a role grants passes the endpoint (BatchGetItem: markers, KEV/EPSS join).
    const granted = new Set(
      FUNCTIONS.flatMap((n) =>
        statementsOf(n)
          .flatMap((x) => asList(x.Action) as string[])
          .filter((a) => a.startsWith('dynamodb:')),
      ),
    );
    assert.deepEqual([...granted].sort(), (asList(st.Action) as string[]).slice().sort());
  });

  it('limits the S3 gateway endpoint to reading the truststore and CRL', () => {
    const [st, ...rest] = endpoint('.s3').PolicyDocument.Statement;
    assert.equal(rest.length, 0);
    assert.deepEqual(asList(st.Action), ['s3:GetObject']);
    assert.equal(asList(st.Resource).length, 2);
  });

  it('limits the KMS interface endpoint to the data key, reachable only from the functions', () => {
    const e = endpoint('.kms');
    assert.equal(e.VpcEndpointType, 'Interface');
    assert.equal(e.PrivateDnsEnabled, true);
    const [st] = e.PolicyDocument.Statement;
    assert.match(text(st.Resource), /DataKey/);
    const ingress = only(s.apiTemplate, 'AWS::EC2::SecurityGroupIngress').Properties;
    assert.equal(ingress.FromPort, 443);
    assert.ok(ingress.SourceSecurityGroupId, 'from the function security group, not a CIDR');
  });

  it('records VPC flow logs (all traffic) to an encrypted log group', () => {
    const flow = only(s.apiTemplate, 'AWS::EC2::FlowLog').Properties;
    assert.equal(flow.TrafficType, 'ALL');
    const group = s.apiTemplate.toJSON().Resources[flow.LogGroupName.Ref];
    assert.ok(group.Properties.KmsKeyId);
    assert.equal(group.Properties.RetentionInDays, 365);
  });
});

const api = (variant: 'mtls' | 'iam'): Record<string, any> => {
  const found = resources(s.apiTemplate, 'AWS::ApiGateway::RestApi').find(
    ([, a]) => a.Properties.Name === `vulnvault-${variant}`,
  );
  assert.ok(found, variant);
  return { id: found[0], ...found[1].Properties };
};
const methods = (body: any) =>
  Object.entries(body.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method, op })),
  );
/** Every route of the contract on AWS and the function it reaches. */
const ROUTES: Record<string, 'queryFunction' | 'ingestFunction' | 'triageFunction'> = {
  'get /v1/orgs/{org}/findings': 'queryFunction',
  'get /v1/orgs/{org}/findings/{id}': 'queryFunction',
  'get /v1/orgs/{org}/findings/{id}/history': 'queryFunction',
  'get /v1/orgs/{org}/summary': 'queryFunction',
  'get /v1/orgs/{org}/vex': 'queryFunction',
  'get /vuln': 'queryFunction',
  'post /v1/orgs/{org}/findings/analysis': 'triageFunction',
  'post /v1/orgs/{org}/scans': 'ingestFunction',
  'post /vuln': 'ingestFunction',
  'put /v1/orgs/{org}/findings/{id}/analysis': 'triageFunction',
};

describe('api stack: REST APIs from the OpenAPI contract (CSH 1.1, NS 1.3)', () => {
  for (const variant of ['mtls', 'iam'] as const) {
    it(`${variant}: serves exactly the contract's routes, each validated and proxied to its function`, () => {
      const a = api(variant);
      const ms = methods(a.Body);
      assert.deepEqual(ms.map((m) => `${m.method} ${m.path}`).sort(), Object.keys(ROUTES).sort());
      for (const { method, path, op } of ms) {
        const integration = op['x-amazon-apigateway-integration'];
        assert.equal(integration.type, 'aws_proxy');
        assert.equal(integration.passthroughBehavior, 'never');
        const target = ROUTES[`${method} ${path}`] as string;
        assert.match(text(integration.uri), new RegExp(target), `${method} ${path}`);
        for (const other of ['queryFunction', 'ingestFunction', 'triageFunction']) {
          if (other !== target) assert.doesNotMatch(text(integration.uri), new RegExp(other));
        }
        const validator = op['x-amazon-apigateway-request-validator'];
        const v = a.Body['x-amazon-apigateway-request-validators'][validator];
        assert.equal(v.validateRequestParameters, true);
        if (op.requestBody)
          assert.equal(v.validateRequestBody, true, `${method} ${path} validates its body`);
      }
    });

    it(`${variant}: disables the default execute-api endpoint`, () => {
      assert.equal(api(variant).DisableExecuteApiEndpoint, true);
    });

    it(`${variant}: has a resource policy denying every source outside the allowed CIDRs`, () => {
      const deny = (api(variant).Policy.Statement as any[]).find((st) => st.Effect === 'Deny');
      assert.deepEqual(
        deny.Condition.NotIpAddress['aws:SourceIp'],
        EXAMPLE_CONTEXT.allowedCidrs.split(','),
      );
      assert.deepEqual(deny.Principal, { AWS: '*' });
    });
  }

  it('mtls: puts the Lambda REQUEST authorizer on every method, uncached', () => {
    const a = api('mtls');
    for (const { op } of methods(a.Body))
      assert.deepEqual(op.security, [{ vulnvaultMtlsAuthorizer: [] }]);
    const scheme = a.Body.components.securitySchemes.vulnvaultMtlsAuthorizer;
    assert.equal(scheme['x-amazon-apigateway-authtype'], 'custom');
    assert.equal(scheme['x-amazon-apigateway-authorizer'].type, 'request');
    assert.equal(scheme['x-amazon-apigateway-authorizer'].authorizerResultTtlInSeconds, 0);
    assert.match(
      text(scheme['x-amazon-apigateway-authorizer'].authorizerUri),
      /authorizerFunction/,
    );
  });

  it('iam: makes every method AWS_IAM (SigV4), with no Lambda authorizer (IAM 1.1b)', () => {
    const a = api('iam');
    for (const { op } of methods(a.Body)) assert.deepEqual(op.security, [{ sigv4: [] }]);
    assert.deepEqual(Object.keys(a.Body.components.securitySchemes), ['sigv4']);
    assert.equal(
      a.Body.components.securitySchemes.sigv4['x-amazon-apigateway-authtype'],
      'awsSigv4',
    );
    assert.doesNotMatch(text(a.Body), /authorizerFunction/);
  });

  it('iam: has its own resource policy that allows only signed callers of the named accounts', () => {
    const mtls = api('mtls').Policy;
    const iamPolicy = api('iam').Policy;
    assert.notDeepEqual(iamPolicy, mtls);
    const allow = (iamPolicy.Statement as any[]).find((st) => st.Effect === 'Allow');
    const principals = text(allow.Principal);
    assert.match(principals, /AWS::AccountId/);
    assert.match(principals, new RegExp(EXAMPLE_CONTEXT.iamCallerAccountIds));
    assert.doesNotMatch(principals, /"\*"/);
  });

  it('lets API Gateway invoke the functions only from these APIs', () => {
    const perms = resources(s.apiTemplate, 'AWS::Lambda::Permission');
    assert.equal(perms.length, 7);
    for (const [, p] of perms) {
      assert.equal(p.Properties.Principal, 'apigateway.amazonaws.com');
      assert.match(text(p.Properties.SourceArn), /mtlsApi|iamApi/);
    }
    // query, ingest and triage from each API; the authorizer from the mTLS API only.
    const from = (name: string, api: 'mtlsApi' | 'iamApi') =>
      perms.filter(
        ([, p]) =>
          text(p.Properties.FunctionName).includes(`${name}Function`) &&
          text(p.Properties.SourceArn).includes(api),
      ).length;
    for (const name of ['query', 'ingest', 'triage']) {
      assert.equal(from(name, 'mtlsApi'), 1, `${name} from mtls`);
      assert.equal(from(name, 'iamApi'), 1, `${name} from iam`);
    }
    assert.equal(from('authorizer', 'iamApi'), 0);
  });
});

describe('api stack: custom domains (IAM 1.1, NS 1.2)', () => {
  const domain = (name: string) => {
    const found = resources(s.apiTemplate, 'AWS::ApiGateway::DomainName').find(
      ([, d]) => d.Properties.DomainName === name,
    );
    assert.ok(found, name);
    return found[1].Properties;
  };

  it('mtls domain: Regional, TLS_1_2, mTLS truststore pinned to a version in the trust bucket', () => {
    const d = domain(EXAMPLE_CONTEXT.domainName);
    assert.deepEqual(d.EndpointConfiguration, { Types: ['REGIONAL'] });
    assert.equal(d.SecurityPolicy, 'TLS_1_2');
    assert.equal(d.RegionalCertificateArn, EXAMPLE_CONTEXT.certificateArn);
    assert.match(
      text(d.MutualTlsAuthentication.TruststoreUri),
      /TrustBucket.*truststore\/ca-bundle\.pem/,
    );
    assert.equal(d.MutualTlsAuthentication.TruststoreVersion, EXAMPLE_CONTEXT.truststoreVersion);
  });

  it('iam domain: Regional, TLS_1_2, no client certificates', () => {
    const d = domain(`iam.${EXAMPLE_CONTEXT.domainName}`);
    assert.equal(d.SecurityPolicy, 'TLS_1_2');
    assert.equal(d.MutualTlsAuthentication, undefined);
  });

  it('selects the TLS 1.3 policy (strict) with -c tlsPolicy=TLS_1_3', () => {
    const ctx: Record<string, unknown> = { ...EXAMPLE_CONTEXT, tlsPolicy: 'TLS_1_3' };
    const config = readConfig((k) => ctx[k]);
    assert.deepEqual(domainTlsSettings(config), {
      securityPolicy: 'SecurityPolicy_TLS13_1_3_2025_09',
      endpointAccessMode: 'STRICT',
    });
  });
});

describe('api stack: throttling, WAF and logs (CSH 1.2, NS 1.1, LO 1.2)', () => {
  const stages = () => resources(s.apiTemplate, 'AWS::ApiGateway::Stage');

  it('throttles every stage and writes JSON access logs, never bodies', () => {
    assert.equal(stages().length, 2);
    for (const [id, st] of stages()) {
      const p = st.Properties;
      assert.ok(p.AccessLogSetting.DestinationArn, id);
      const format = JSON.parse(p.AccessLogSetting.Format);
      assert.equal(format.requestId, '$context.requestId');
      assert.equal(format.ip, '$context.identity.sourceIp');
      const all = p.MethodSettings.find(
        (m: any) => m.HttpMethod === '*' && m.ResourcePath === '/*',
      );
      assert.equal(all.ThrottlingRateLimit, 50);
      assert.equal(all.ThrottlingBurstLimit, 100);
      assert.equal(all.DataTraceEnabled, false);
    }
  });

  it('attaches a usage plan with throttle and quota to each stage', () => {
    const plans = resources(s.apiTemplate, 'AWS::ApiGateway::UsagePlan');
    assert.equal(plans.length, 2);
    for (const [, p] of plans) {
      assert.deepEqual(p.Properties.Throttle, { BurstLimit: 100, RateLimit: 50 });
      assert.equal(p.Properties.Quota.Period, 'DAY');
      assert.equal(p.Properties.ApiStages.length, 1);
    }
  });

  it('blocks sources outside the IP set and rate-limits each source (WAF)', () => {
    const acl = only(s.apiTemplate, 'AWS::WAFv2::WebACL').Properties;
    assert.equal(acl.Scope, 'REGIONAL');
    const ipRule = acl.Rules.find((r: any) => r.Statement.NotStatement);
    assert.deepEqual(ipRule.Action, { Block: {} });
    const ipSetId =
      ipRule.Statement.NotStatement.Statement.IPSetReferenceStatement.Arn['Fn::GetAtt'][0];
    const ipSet = s.apiTemplate.toJSON().Resources[ipSetId].Properties;
    assert.deepEqual(ipSet.Addresses, EXAMPLE_CONTEXT.allowedCidrs.split(','));
    const rate = acl.Rules.find((r: any) => r.Statement.RateBasedStatement);
    assert.equal(rate.Statement.RateBasedStatement.AggregateKeyType, 'IP');
    assert.equal(rate.Statement.RateBasedStatement.Limit, 2000);
    assert.ok(rate.Action.Block);
  });

  it('associates the web ACL with both stages', () => {
    const assoc = resources(s.apiTemplate, 'AWS::WAFv2::WebACLAssociation');
    assert.equal(assoc.length, 2);
    const stageIds = stages().map(([id]) => id);
    for (const [, a] of assoc) {
      assert.ok(stageIds.some((id) => text(a.Properties.ResourceArn).includes(id)));
    }
  });

  it('keeps encrypted log groups for the functions and the access logs', () => {
    const groups = resources(s.apiTemplate, 'AWS::Logs::LogGroup');
    assert.equal(groups.length, 7);
    for (const [id, g] of groups) {
      assert.ok(g.Properties.KmsKeyId, id);
      assert.equal(g.Properties.RetentionInDays, 365, id);
    }
  });
});
