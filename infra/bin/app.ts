// `npx cdk synth|deploy` entry (see cdk.json). Parameters come from CDK
// context: `-c domainName=... -c certificateArn=...` (README, "Deploy to AWS").
import { buildApp } from '../lib/app.js';
import { ConfigError } from '../lib/config.js';

try {
  buildApp().app.synth();
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`vulnvault infra: ${err.message}`);
    process.exit(2);
  }
  throw err;
}
