// Lambda configuration, read from the environment once, validated and frozen
// (STYLE.md: config is never read from process.env deep in the code). The
// names are the ones the CDK app sets (table names from table-design.ts).

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
}

type Need = keyof LambdaEnv;

const VARS: Record<Need, string> = {
  findingsTable: FINDINGS_TABLE.envVar,
  policyTable: POLICY_TABLE.envVar,
  idempotencyTable: IDEMPOTENCY_TABLE.envVar,
  trustBucket: 'VULNVAULT_TRUST_BUCKET',
  truststoreKey: 'VULNVAULT_TRUSTSTORE_KEY',
  crlKey: 'VULNVAULT_CRL_KEY',
};

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
