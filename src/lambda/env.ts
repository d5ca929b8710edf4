// Lambda configuration, read from the environment once, validated and frozen
// (STYLE.md: config is never read from process.env deep in the code). The
// names are the ones the CDK app sets (table names from table-design.ts).
// The page-cursor secret comes from the function's configuration too (the CDK
// app resolves it from a Secrets Manager secret at deploy time), never from
// code; without it the query function refuses to serve.

import { fixedCursorKeys, MIN_CURSOR_SECRET_BYTES, type CursorKeys } from '../core/cursor-keys.js';
import { RISK_ACCEPTANCE_MAX_DAYS_DEFAULT } from '../core/triage.js';
import {
  FEEDS_TABLE,
  FINDINGS_TABLE,
  IDEMPOTENCY_TABLE,
  POLICY_TABLE,
} from '../adapters/dynamodb/table-design.js';

export interface LambdaEnv {
  findingsTable: string;
  policyTable: string;
  idempotencyTable: string;
  feedsTable: string;
  trustBucket: string;
  truststoreKey: string;
  crlKey: string;
  cursorSecret: string;
}

type Need = keyof LambdaEnv;

const VARS: Record<Need, string> = {
  findingsTable: FINDINGS_TABLE.envVar,
  policyTable: POLICY_TABLE.envVar,
  idempotencyTable: IDEMPOTENCY_TABLE.envVar,
  feedsTable: FEEDS_TABLE.envVar,
  trustBucket: 'VULNVAULT_TRUST_BUCKET',
  truststoreKey: 'VULNVAULT_TRUSTSTORE_KEY',
  crlKey: 'VULNVAULT_CRL_KEY',
  cursorSecret: 'VULNVAULT_CURSOR_SECRET',
};

/** Set during a rotation's grace period: cursors tagged with it are still accepted. */
export const CURSOR_SECRET_PREVIOUS_VAR = 'VULNVAULT_CURSOR_SECRET_PREVIOUS';

/** The named settings, or an error naming every missing variable. */
export function readEnv<K extends Need>(
  needs: readonly K[],
  env: NodeJS.ProcessEnv = process.env,
): Readonly<Pick<LambdaEnv, K>> {
  const out: Partial<LambdaEnv> = {};
  const missing: string[] = [];
  for (const k of needs) {
    const v = env[VARS[k]]?.trim();
    if (v) out[k] = v;
    else missing.push(VARS[k]);
  }
  if (missing.length > 0) {
    throw new Error(`vulnvault lambda: missing environment variable(s) ${missing.join(', ')}`);
  }
  return Object.freeze(out as Pick<LambdaEnv, K>);
}

/**
 * The page-cursor keys: VULNVAULT_CURSOR_SECRET tags and verifies,
 * VULNVAULT_CURSOR_SECRET_PREVIOUS (optional) only verifies. Each must have
 * at least 32 bytes; a missing or short secret is an error (fail closed).
 */
export function readCursorKeys(env: NodeJS.ProcessEnv = process.env): CursorKeys {
  const { cursorSecret } = readEnv(['cursorSecret'], env);
  const previous = env[CURSOR_SECRET_PREVIOUS_VAR]?.trim();
  const named: [string, string][] = [
    [VARS.cursorSecret, cursorSecret],
    ...(previous ? [[CURSOR_SECRET_PREVIOUS_VAR, previous] as [string, string]] : []),
  ];
  for (const [name, value] of named) {
    if (Buffer.byteLength(value) < MIN_CURSOR_SECRET_BYTES) {
      throw new Error(
        `vulnvault lambda: environment variable ${name} must hold at least ${MIN_CURSOR_SECRET_BYTES} bytes`,
      );
    }
  }
  return fixedCursorKeys(Buffer.from(cursorSecret), previous ? [Buffer.from(previous)] : []);
}

/** Longest risk acceptance in days (the edge's triage.maxRiskAcceptanceDays). */
export const MAX_RISK_ACCEPTANCE_DAYS_VAR = 'VULNVAULT_MAX_RISK_ACCEPTANCE_DAYS';
const MAX_RISK_ACCEPTANCE_DAYS_LIMIT = 3650;

/**
 * The longest risk acceptance: VULNVAULT_MAX_RISK_ACCEPTANCE_DAYS, or 365 when
 * unset. A value that is not an integer from 1 to 3650 is an error (fail
 * closed), as the edge's config schema refuses it.
 */
export function readMaxRiskAcceptanceDays(env: NodeJS.ProcessEnv = process.env): number {
  const v = env[MAX_RISK_ACCEPTANCE_DAYS_VAR]?.trim();
  if (v === undefined || v === '') return RISK_ACCEPTANCE_MAX_DAYS_DEFAULT;
  const n = /^\d{1,4}$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= MAX_RISK_ACCEPTANCE_DAYS_LIMIT)) {
    throw new Error(
      `vulnvault lambda: environment variable ${MAX_RISK_ACCEPTANCE_DAYS_VAR} must be an integer from 1 to ${MAX_RISK_ACCEPTANCE_DAYS_LIMIT}`,
    );
  }
  return n;
}
