// The triage function's configuration (src/lambda/env.ts): the risk-acceptance
// limit defaults to 365 days like the edge's, and a bad value or a missing
// table name stops the function before it serves anything (fail closed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_RISK_ACCEPTANCE_DAYS_VAR, readMaxRiskAcceptanceDays } from '../../src/lambda/env.js';
import { handler } from '../../src/lambda/triage.js';

describe('triage function configuration', () => {
  it('reads the longest risk acceptance, 365 days when unset', () => {
    assert.equal(readMaxRiskAcceptanceDays({}), 365);
    assert.equal(readMaxRiskAcceptanceDays({ [MAX_RISK_ACCEPTANCE_DAYS_VAR]: ' ' }), 365);
    assert.equal(readMaxRiskAcceptanceDays({ [MAX_RISK_ACCEPTANCE_DAYS_VAR]: '30' }), 30);
    assert.equal(readMaxRiskAcceptanceDays({ [MAX_RISK_ACCEPTANCE_DAYS_VAR]: '3650' }), 3650);
  });

  it('refuses a limit that is not an integer from 1 to 3650, naming the variable', () => {
    for (const bad of ['0', '3651', '-1', '1.5', '30d', '1e3', '99999']) {
      assert.throws(
        () => readMaxRiskAcceptanceDays({ [MAX_RISK_ACCEPTANCE_DAYS_VAR]: bad }),
        /VULNVAULT_MAX_RISK_ACCEPTANCE_DAYS must be an integer from 1 to 3650/,
        bad,
      );
    }
  });

  it('the triage entry serves nothing without its tables or with a bad limit', async () => {
    const saved = { ...process.env };
    const event = {} as Parameters<typeof handler>[0];
    try {
      delete process.env.VULNVAULT_FINDINGS_TABLE;
      delete process.env.VULNVAULT_POLICY_TABLE;
      await assert.rejects(
        handler(event),
        /missing environment variable\(s\) VULNVAULT_FINDINGS_TABLE, VULNVAULT_POLICY_TABLE/,
      );
      process.env.VULNVAULT_FINDINGS_TABLE = 'findings';
      process.env.VULNVAULT_POLICY_TABLE = 'policies';
      process.env[MAX_RISK_ACCEPTANCE_DAYS_VAR] = '0';
      await assert.rejects(handler(event), /VULNVAULT_MAX_RISK_ACCEPTANCE_DAYS/);
    } finally {
      process.env = saved;
    }
  });
});
