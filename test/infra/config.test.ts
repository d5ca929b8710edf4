// Deployment parameters: every bad value stops the synth naming its key.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, readConfig, vaultRegion } from '../../infra/lib/config.js';
import { EXAMPLE_CONTEXT } from './synth.js';

const read = (overrides: Record<string, unknown>) => {
  const ctx: Record<string, unknown> = { ...EXAMPLE_CONTEXT, ...overrides };
  return readConfig((k) => ctx[k]);
};

describe('deployment parameters (CDK context)', () => {
  it('reads the example parameters with their defaults', () => {
    const c = read({});
    assert.deepEqual(c.allowedCidrs, ['203.0.113.0/24', '198.51.100.7/32']);
    assert.equal(c.iamDomainName, `iam.${EXAMPLE_CONTEXT.domainName}`);
    assert.equal(c.iamCertificateArn, EXAMPLE_CONTEXT.certificateArn);
    assert.equal(c.tlsPolicy, 'TLS_1_2');
    assert.equal(c.lambdaRuntime, 'nodejs22.x');
    assert.equal(c.truststoreKey, 'truststore/ca-bundle.pem');
    assert.equal(c.cursorSecretPrevious, false);
    assert.equal(c.maxRiskAcceptanceDays, 365);
    assert.ok(Object.isFrozen(c));
  });

  it('reads cursorSecretPrevious as a boolean (command line string or JSON)', () => {
    assert.equal(read({ cursorSecretPrevious: 'true' }).cursorSecretPrevious, true);
    assert.equal(read({ cursorSecretPrevious: true }).cursorSecretPrevious, true);
    assert.equal(read({ cursorSecretPrevious: 'false' }).cursorSecretPrevious, false);
  });

  it('reads maxRiskAcceptanceDays from the command line or JSON', () => {
    assert.equal(read({ maxRiskAcceptanceDays: '30' }).maxRiskAcceptanceDays, 30);
    assert.equal(read({ maxRiskAcceptanceDays: 3650 }).maxRiskAcceptanceDays, 3650);
  });

  it('accepts lists as JSON arrays too (cdk.json)', () => {
    assert.deepEqual(read({ allowedCidrs: ['10.0.0.0/8'] }).allowedCidrs, ['10.0.0.0/8']);
  });

  const refusals: [string, unknown, RegExp][] = [
    ['domainName', undefined, /"domainName": is required/],
    ['domainName', 'API.Example.com', /not a lower-case DNS name/],
    ['certificateArn', 'arn:aws:acm:eu-west-1:1:certificate/x', /not an ACM certificate ARN/],
    ['allowedCidrs', '', /at least one CIDR/],
    ['allowedCidrs', '0.0.0.0', /not an IPv4 CIDR/],
    ['allowedCidrs', '10.0.0.1/8', /host bits set/],
    ['allowedCidrs', '2001:db8::/32', /not an IPv4 CIDR/],
    ['allowedCidrs', '256.0.0.0/8', /not an IPv4 CIDR/],
    ['keyAdminRoleArns', 'arn:aws:iam::111111111111:user/alice', /not an IAM role ARN/],
    ['keyAdminRoleArns', '', /at least one key-admin role/],
    ['iamCallerAccountIds', '12345', /12-digit/],
    ['backupCopyVaultArn', 'arn:aws:backup:eu-central-1:111111111111:vault/x', /backup vault ARN/],
    ['tlsPolicy', 'TLS_1_0', /expected one of TLS_1_2, TLS_1_3/],
    ['lambdaRuntime', 'nodejs18.x', /expected one of/],
    ['logRetentionDays', '100', /expected one of 1, 3, 5/],
    ['wafRateLimit', '5', /from 10 to/],
    ['iamDomainName', EXAMPLE_CONTEXT.domainName, /must differ from domainName/],
    ['crlKey', 'truststore/ca-bundle.pem', /must differ from truststoreKey/],
    ['cursorSecretPrevious', 'yes', /expected true or false/],
    ['maxRiskAcceptanceDays', '0', /from 1 to 3650/],
    ['maxRiskAcceptanceDays', '3651', /from 1 to 3650/],
    ['maxRiskAcceptanceDays', '1.5', /from 1 to 3650/],
  ];
  for (const [key, value, message] of refusals) {
    it(`refuses ${key}=${JSON.stringify(value)}`, () => {
      assert.throws(
        () => read({ [key]: value }),
        (e: unknown) =>
          e instanceof ConfigError && message.test(e.message) && e.message.includes(key),
      );
    });
  }

  it('reads the copy region from the vault ARN', () => {
    assert.equal(vaultRegion(EXAMPLE_CONTEXT.backupCopyVaultArn), 'eu-central-1');
  });
});
