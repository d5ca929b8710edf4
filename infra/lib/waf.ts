// WAF web ACL (NS 1.1, CSH 1.2) in front of both API stages: requests from
// outside the allowed IP set are blocked, a rate-based rule blocks a source
// that sends too much, and AWS's known-bad-inputs rule group runs last.
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';

export interface WafProps {
  allowedCidrs: string[];
  /** Requests per 5-minute window per source address. */
  rateLimit: number;
  /** Stage ARNs to protect. */
  stageArns: string[];
}

const visibility = (metricName: string) => ({
  cloudWatchMetricsEnabled: true,
  sampledRequestsEnabled: true,
  metricName,
});

export function createWaf(scope: Construct, p: WafProps): wafv2.CfnWebACL {
  const ipSet = new wafv2.CfnIPSet(scope, 'AllowedSources', {
    scope: 'REGIONAL',
    ipAddressVersion: 'IPV4',
    addresses: p.allowedCidrs,
    description: 'vulnvault: source addresses allowed to call the API',
  });
  const acl = new wafv2.CfnWebACL(scope, 'WebAcl', {
    scope: 'REGIONAL',
    defaultAction: { allow: {} },
    visibilityConfig: visibility('vulnvault-acl'),
    rules: [
      {
        name: 'block-outside-allowed-sources',
        priority: 0,
        action: { block: {} },
        statement: {
          notStatement: { statement: { ipSetReferenceStatement: { arn: ipSet.attrArn } } },
        },
        visibilityConfig: visibility('outside-allowed-sources'),
      },
      {
        name: 'rate-limit-per-source',
        priority: 1,
        action: { block: { customResponse: { responseCode: 429 } } },
        statement: {
          rateBasedStatement: {
            limit: p.rateLimit,
            aggregateKeyType: 'IP',
            evaluationWindowSec: 300,
          },
        },
        visibilityConfig: visibility('rate-limit-per-source'),
      },
      {
        name: 'aws-known-bad-inputs',
        priority: 2,
        overrideAction: { none: {} },
        statement: {
          managedRuleGroupStatement: {
            vendorName: 'AWS',
            name: 'AWSManagedRulesKnownBadInputsRuleSet',
          },
        },
        visibilityConfig: visibility('known-bad-inputs'),
      },
    ],
  });
  p.stageArns.forEach((resourceArn, i) => {
    new wafv2.CfnWebACLAssociation(scope, `WebAclAssociation${i}`, {
      webAclArn: acl.attrArn,
      resourceArn,
    });
  });
  return acl;
}
