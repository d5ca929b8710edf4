// Policy as code (issue 6 item 4): cdk-nag's AwsSolutions pack and CDK's
// CloudFormation validation report zero unacknowledged findings, errors and
// warnings alike, on the whole app (synthesized once, functions bundled), and
// every acknowledgement is narrow and has a written reason.
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  apiAcknowledgements,
  DATA_ACKNOWLEDGEMENTS,
  acknowledge,
} from '../../infra/lib/nag-suppressions.js';
import { synthesize, type Synthesized, type ValidationReport } from './synth.js';

let s: Synthesized;
before(() => {
  s = synthesize();
});

describe('cdk-nag AwsSolutions checks', () => {
  it('run on the app and report zero unacknowledged findings (errors and warnings)', () => {
    const names = s.report.pluginReports.map((r) => r.pluginName);
    assert.ok(names.includes('AwsSolutions'), `plugins: ${names.join(', ')}`);
    for (const r of s.report.pluginReports) {
      const found = r.violations.map(
        (v) =>
          `${v.ruleName} (${v.severity}) at ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`,
      );
      assert.deepEqual(found, [], `${r.pluginName} has unacknowledged findings`);
      assert.equal(r.conclusion, 'success', r.pluginName);
    }
  });

  it('acknowledges only the listed findings, each on one resource with a specific reason', () => {
    const nag = s.report.pluginReports.find((r) => r.pluginName === 'AwsSolutions')!;
    const listed = [
      ...DATA_ACKNOWLEDGEMENTS.map((a) => `VulnvaultData/${a.path}`),
      ...apiAcknowledgements(s.api).map((a) => `VulnvaultApi/${a.path}`),
    ];
    assert.ok(nag.suppressedViolations.length > 0);
    for (const v of nag.suppressedViolations) {
      assert.ok(
        listed.includes(v.acknowledgedAt),
        `acknowledged at a listed resource: ${v.acknowledgedAt}`,
      );
      assert.ok(v.reason.length >= 80, `a written reason for ${v.ruleName} at ${v.acknowledgedAt}`);
    }
    for (const a of [...DATA_ACKNOWLEDGEMENTS, ...apiAcknowledgements(s.api)]) {
      assert.ok(
        a.path.endsWith('/Resource'),
        `${a.path} is a resource, not a whole stack or subtree`,
      );
    }
  });

  it('fails the synthesis on a finding nobody acknowledged (the gate is real)', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'vulnvault-nag-'));
    const app = new App({ outdir });
    const stack = new Stack(app, 'Bare');
    new s3.Bucket(stack, 'Plain');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    assert.throws(() => app.synth(), /validation ?failed/i);
    const report = JSON.parse(
      readFileSync(join(outdir, 'validation-report.json'), 'utf8'),
    ) as ValidationReport;
    const rules = report.pluginReports.flatMap((r) => r.violations.map((v) => v.ruleName));
    assert.ok(rules.includes('AwsSolutions-S1'), rules.join(', '));
    assert.ok(rules.includes('AwsSolutions-S10'), rules.join(', '));
  });

  it('refuses an acknowledgement for a construct that does not exist (no stale entries)', () => {
    const stack = new Stack(new App(), 'Empty');
    assert.throws(
      () =>
        acknowledge(stack, [
          { path: 'Gone/Resource', id: 'AwsSolutions::AwsSolutions-S1', reason: 'x' },
        ]),
      /no construct Empty\/Gone\/Resource/,
    );
  });
});
