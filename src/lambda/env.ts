// Lambda configuration, read from the environment once, validated and frozen
// (STYLE.md: config is never read from process.env deep in the code). The
// names are the ones the CDK app sets (table names from table-design.ts).
// The page-cursor secret comes from the function's configuration too (the CDK
// app resolves it from a Secrets Manager secret at deploy time), never from
// code; without it the query function refuses to serve.

import { fixedCursorKeys, MIN_CURSOR_SECRET_BYTES, type CursorKeys } from '../core/cursor-keys.js';
import {
  FINDINGS_TABLE,
  IDEMPOTENCY_TABLE,
  POLICY_TABLE,
} from '../adapters/dynamodb/table-design.js';

export interface LambdaEnv {
  findingsTable: string;
  policyTable: string;
  idempotencyTable: string;
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
