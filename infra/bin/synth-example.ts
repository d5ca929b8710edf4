// `npm run synth`: synthesizes the app offline into infra/cdk.out with the
// documentation-only parameters of infra/example-context.json (reserved
// example domains, accounts and addresses), bundling the functions locally.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../lib/app.js';

const context = JSON.parse(
  readFileSync(fileURLToPath(new URL('../example-context.json', import.meta.url)), 'utf8'),
) as Record<string, unknown>;
const outdir = fileURLToPath(new URL('../cdk.out', import.meta.url));
const started = Date.now();
const assembly = buildApp({ context, outdir }).app.synth();
console.log(
  `synthesized ${assembly.stacks.map((s) => s.stackName).join(', ')} into ${outdir} in ${Date.now() - started} ms`,
);
