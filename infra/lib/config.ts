// Deployment parameters of the CDK app, read once from CDK context
// (`-c key=value` or cdk.json) and validated before any construct is built:
// a bad value stops the synth with one line naming the key.

import { RISK_ACCEPTANCE_MAX_DAYS_DEFAULT } from '../../src/core/triage.js';

export const TLS_POLICIES = ['TLS_1_2', 'TLS_1_3'] as const;
export type TlsPolicyName = (typeof TLS_POLICIES)[number];

export interface DeployConfig {
  /** Custom domain of the mTLS API, e.g. api.example.com. */
  domainName: string;
  /** ACM certificate (same region) for domainName. */
  certificateArn: string;
  /** Custom domain of the IAM-authorized API (no client certificates). */
  iamDomainName: string;
  iamCertificateArn: string;
  /** IPv4 CIDRs allowed by the resource policies and the WAF IP set. */
  allowedCidrs: string[];
  /** Roles allowed to delete, disable or change the policy of the KMS key. */
  keyAdminRoleArns: string[];
  /** AWS accounts whose IAM roles may call the IAM-authorized API. */
  iamCallerAccountIds: string[];
  /** Backup vault in another region that every recovery point is copied to. */
  backupCopyVaultArn: string;
  tlsPolicy: TlsPolicyName;
  /** S3 object version of the truststore PEM; pins what the domain uses. */
  truststoreVersion: string | undefined;
  truststoreKey: string;
  crlKey: string;
  /** Days logs are kept in the log bucket and in CloudWatch Logs. */
  logRetentionDays: number;
  /** WAF rate-based rule: requests per 5 minutes per source address. */
  wafRateLimit: number;
  lambdaRuntime: LambdaRuntimeName;
  /** Stage throttling (steady requests per second and burst). */
  throttleRate: number;
  throttleBurst: number;
  /**
   * During a rotation of the page-cursor secret: the query function also
   * accepts cursors of the previous value (the secret's AWSPREVIOUS).
   */
  cursorSecretPrevious: boolean;
  /** Longest risk acceptance in days, for the triage function (default 365, as on the edge). */
  maxRiskAcceptanceDays: number;
}

/**
 * nodejs20.x is deprecated on Lambda (creation disabled from 2027-02-01), so
 * the default is the next LTS; the bundles target Node 20 syntax either way.
 */
export const LAMBDA_RUNTIMES = ['nodejs22.x', 'nodejs24.x', 'nodejs20.x'] as const;
export type LambdaRuntimeName = (typeof LAMBDA_RUNTIMES)[number];

export class ConfigError extends Error {
  constructor(key: string, message: string) {
    super(`context "${key}": ${message}`);
    this.name = 'ConfigError';
  }
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const ACM_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const VAULT_ARN = /^arn:aws[a-z-]*:backup:([a-z0-9-]+):\d{12}:backup-vault:[A-Za-z0-9_.-]{2,50}$/;
const ACCOUNT = /^\d{12}$/;
const S3_KEY = /^[A-Za-z0-9!_.*'()/-]{1,1024}$/;
const VERSION_ID = /^[A-Za-z0-9._-]{1,1024}$/;

/** Context values come as strings from the command line or as JSON from cdk.json. */
function list(key: string, v: unknown): string[] {
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.map((x) => x.trim());
  if (typeof v === 'string') {
    return v
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== '');
  }
  throw new ConfigError(key, 'expected a comma-separated string or a list of strings');
}

function str(key: string, v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '') throw new ConfigError(key, 'is required');
  return v.trim();
}

function int(key: string, v: unknown, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(key, `expected an integer from ${min} to ${max}`);
  }
  return n;
}

function bool(key: string, v: unknown): boolean {
  if (v === undefined || v === false || v === 'false') return false;
  if (v === true || v === 'true') return true;
  throw new ConfigError(key, 'expected true or false');
}

function matching(key: string, v: string, re: RegExp, what: string): string {
  if (!re.test(v)) throw new ConfigError(key, `"${v}" is not ${what}`);
  return v;
}

/** A canonical IPv4 CIDR (host bits zero), which both WAF and IAM accept. */
export function parseIpv4Cidr(key: string, cidr: string): string {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const bits = m ? Number(m[5]) : -1;
  if (!m || octets.some((o) => o > 255) || bits > 32 || bits < 1) {
    throw new ConfigError(key, `"${cidr}" is not an IPv4 CIDR such as 203.0.113.0/24`);
  }
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  const hostBits = 2 ** (32 - bits);
  if (value % hostBits !== 0) {
    throw new ConfigError(key, `"${cidr}" has host bits set; use the network address`);
  }
  return cidr;
}

/**
 * Reads and validates every parameter. `get` is `node.tryGetContext`. */
export function readConfig(get: (key: string) => unknown): DeployConfig {
  const domainName = matching(
    'domainName',
    str('domainName', get('domainName')),
    DOMAIN,
    'a lower-case DNS name',
  );
  const certificateArn = matching(
    'certificateArn',
    str('certificateArn', get('certificateArn')),
    ACM_ARN,
    'an ACM certificate ARN',
  );
  const iamDomainRaw = get('iamDomainName');
  const iamDomainName = matching(
    'iamDomainName',
    iamDomainRaw === undefined ? `iam.${domainName}` : str('iamDomainName', iamDomainRaw),
    DOMAIN,
    'a lower-case DNS name',
  );
  if (iamDomainName === domainName) {
    throw new ConfigError('iamDomainName', 'must differ from domainName (the mTLS domain)');
  }
  const iamCertRaw = get('iamCertificateArn');
  const iamCertificateArn =
    iamCertRaw === undefined
      ? certificateArn
      : matching(
          'iamCertificateArn',
          str('iamCertificateArn', iamCertRaw),
          ACM_ARN,
          'an ACM certificate ARN',
        );

  const allowedCidrs = list('allowedCidrs', get('allowedCidrs')).map((c) =>
    parseIpv4Cidr('allowedCidrs', c),
  );
  if (allowedCidrs.length === 0) {
    throw new ConfigError(
      'allowedCidrs',
      'needs at least one CIDR (nothing is reachable otherwise)',
    );
  }
  const keyAdminRoleArns = list('keyAdminRoleArns', get('keyAdminRoleArns')).map((a) =>
    matching('keyAdminRoleArns', a, ROLE_ARN, 'an IAM role ARN'),
  );
  if (keyAdminRoleArns.length === 0) {
    throw new ConfigError('keyAdminRoleArns', 'needs at least one key-admin role ARN');
  }
  const callersRaw = get('iamCallerAccountIds');
  const iamCallerAccountIds =
    callersRaw === undefined
      ? []
      : list('iamCallerAccountIds', callersRaw).map((a) =>
          matching('iamCallerAccountIds', a, ACCOUNT, 'a 12-digit AWS account id'),
        );

  const backupCopyVaultArn = matching(
    'backupCopyVaultArn',
    str('backupCopyVaultArn', get('backupCopyVaultArn')),
    VAULT_ARN,
    'a backup vault ARN (arn:aws:backup:REGION:ACCOUNT:backup-vault:NAME)',
  );

  const tlsRaw = get('tlsPolicy') ?? 'TLS_1_2';
  if (!TLS_POLICIES.includes(tlsRaw as TlsPolicyName)) {
    throw new ConfigError('tlsPolicy', `expected one of ${TLS_POLICIES.join(', ')}`);
  }
  const versionRaw = get('truststoreVersion');
  const truststoreVersion =
    versionRaw === undefined
      ? undefined
      : matching(
          'truststoreVersion',
          str('truststoreVersion', versionRaw),
          VERSION_ID,
          'an S3 version id',
        );
  const truststoreKey = matching(
    'truststoreKey',
    str('truststoreKey', get('truststoreKey') ?? 'truststore/ca-bundle.pem'),
    S3_KEY,
    'an S3 object key',
  );
  const crlKey = matching(
    'crlKey',
    str('crlKey', get('crlKey') ?? 'crl/ca.crl'),
    S3_KEY,
    'an S3 object key',
  );
  if (crlKey === truststoreKey) throw new ConfigError('crlKey', 'must differ from truststoreKey');

  const runtimeRaw = get('lambdaRuntime') ?? LAMBDA_RUNTIMES[0];
  if (!LAMBDA_RUNTIMES.includes(runtimeRaw as LambdaRuntimeName)) {
    throw new ConfigError('lambdaRuntime', `expected one of ${LAMBDA_RUNTIMES.join(', ')}`);
  }
  const throttleRate = int('throttleRate', get('throttleRate'), 50, 1, 10000);
  return Object.freeze({
    domainName,
    certificateArn,
    iamDomainName,
    iamCertificateArn,
    allowedCidrs,
    keyAdminRoleArns,
    iamCallerAccountIds,
    backupCopyVaultArn,
    tlsPolicy: tlsRaw as TlsPolicyName,
    truststoreVersion,
    truststoreKey,
    crlKey,
    logRetentionDays: retention(get('logRetentionDays')),
    // WAF's minimum for a rate-based rule is 10 requests per evaluation window.
    wafRateLimit: int('wafRateLimit', get('wafRateLimit'), 2000, 10, 2_000_000_000),
    lambdaRuntime: runtimeRaw as LambdaRuntimeName,
    throttleRate,
    throttleBurst: int('throttleBurst', get('throttleBurst'), throttleRate * 2, 1, 5000),
    cursorSecretPrevious: bool('cursorSecretPrevious', get('cursorSecretPrevious')),
    // The same bounds as the edge's triage.maxRiskAcceptanceDays and src/lambda/env.ts.
    maxRiskAcceptanceDays: int(
      'maxRiskAcceptanceDays',
      get('maxRiskAcceptanceDays'),
      RISK_ACCEPTANCE_MAX_DAYS_DEFAULT,
      1,
      3650,
    ),
  });
}

/** CloudWatch Logs accepts only these retention periods (days). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

function retention(v: unknown): number {
  const n = int('logRetentionDays', v, 365, 1, 3653);
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(n)) {
    throw new ConfigError('logRetentionDays', `expected one of ${LOG_RETENTION_DAYS.join(', ')}`);
  }
  return n;
}

/** The region of a backup vault ARN (validated above). */
export function vaultRegion(vaultArn: string): string {
  const m = VAULT_ARN.exec(vaultArn);
  if (!m?.[1]) throw new ConfigError('backupCopyVaultArn', 'has no region');
  return m[1];
}
