// Synthesizes the CDK app once per test file with the example parameters
// (infra/example-context.json) into a temporary directory, bundling the
// functions with the local esbuild. Nothing here talks to AWS.
import { Template } from 'aws-cdk-lib/assertions';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp, type VulnvaultApp } from '../../infra/lib/app.js';

export interface ExampleContext {
  domainName: string;
  certificateArn: string;
  allowedCidrs: string;
  keyAdminRoleArns: string;
  iamCallerAccountIds: string;
  backupCopyVaultArn: string;
  truststoreVersion: string;
}

export const EXAMPLE_CONTEXT = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../infra/example-context.json', import.meta.url)), 'utf8'),
) as ExampleContext;

export interface Synthesized extends VulnvaultApp {
  outdir: string;
  data: VulnvaultApp['data'];
  dataTemplate: Template;
  apiTemplate: Template;
  /** validation-report.json of the cloud assembly (cdk-nag and CloudFormation validation). */
  report: ValidationReport;
}

export interface ValidationReport {
  pluginReports: {
    pluginName: string;
    conclusion: string;
    violations: {
      ruleName: string;
      severity: string;
      violatingConstructs: { constructPath: string }[];
    }[];
    suppressedViolations: { ruleName: string; reason: string; acknowledgedAt: string }[];
  }[];
}

export function synthesize(context: Record<string, unknown> = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'vulnvault-cdk-'));
  const built = buildApp({ context: { ...EXAMPLE_CONTEXT, ...context }, outdir });
  built.app.synth();
  const report = JSON.parse(
    readFileSync(join(outdir, 'validation-report.json'), 'utf8'),
  ) as ValidationReport;
  return {
    ...built,
    outdir,
    // The assembly is cached: these reuse the synthesis above.
    dataTemplate: Template.fromStack(built.data),
    apiTemplate: Template.fromStack(built.api),
    report,
  };
}

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string };

/** All resources of a type, as [logicalId, resource]. */
export function resources(t: Template, type: string): [string, Resource][] {
  return Object.entries(t.findResources(type)) as [string, Resource][];
}

export function only(t: Template, type: string): Resource {
  const all = resources(t, type);
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0]![1];
}

/** Statement lists in templates may hold one action as a string. */
export const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
