#!/usr/bin/env node
// vulnvault command line. Every failure is one line on stderr and a non-zero
// exit code; stack traces only with VULNVAULT_DEBUG=1.

import { StartupError } from '../app.js';
import { AuditError } from '../audit/audit-error.js';
import { BackupError } from '../backup/backup-error.js';
import { ConfigError } from '../config/config-error.js';
import { KeyringError } from '../crypto/keyring-error.js';
import { PkiError } from '../pki/pki-error.js';
import { CliError } from './cli-error.js';
import { auditCommand } from './commands/audit.js';
import { backupCommand, restoreCommand } from './commands/backup.js';
import { initCommand } from './commands/init.js';
import { keysCommand } from './commands/keys.js';
import { pkiCommand } from './commands/pki.js';
import { policyCommand } from './commands/policy.js';
import { serveCommand, startCommand } from './commands/serve.js';
import { uploadCommand } from './commands/upload.js';

const HELP = `vulnvault — secure-by-default API for vulnerability data

usage:
  vulnvault init   [--dir DIR] [--force] [--admin-key FILE]   create DIR (default ./.vulnvault): config, dev PKI, stores,
                   demo policy, keyring; the key-admin key goes to FILE (default DIR.key-admin/key-admin.pem)
  vulnvault serve  [--dir DIR] [--host H] [--port P]
  vulnvault start  [--dir DIR] [--host H] [--port P]   init DIR if missing, then serve (npm start)
  vulnvault pki issue --name NAME --ou OU --cn CN [--o ORG] [--ttl 24h] [--dir DIR] [--force]
  vulnvault pki renew --name NAME [--ttl 24h] [--dir DIR]     new key and certificate, same subject
  vulnvault pki revoke --name NAME [--dir DIR]                add it to the CRL (a running server refuses it)
  vulnvault pki crl [--dir DIR]                               re-sign the CRL with a fresh validity
  vulnvault pki rotate-server [--ttl 365d] [--dir DIR]        new server key and certificate
  vulnvault policy grant|revoke --ou OU|--client CLIENT_ID|--iam ROLE_ARN --action read|write --org ORG [--dir DIR]
  vulnvault policy list [--ou OU|--client ID|--iam ARN] [--action read|write] [--org ORG] [--json] [--dir DIR]
  vulnvault audit verify [--dir DIR] [--key PUBLIC_KEY_PEM] [--anchor FILE]...
                   check the audit logs' hash chains, signed checkpoints and anchored heads
  vulnvault audit anchor --out FILE|- [--dir DIR] [--key PUBLIC_KEY_PEM]   export every log's current head
  vulnvault keys status [--json] [--dir DIR]                  key versions, states, which orgs' data keys each protects
  vulnvault keys rotate [--admin-key FILE] [--dir DIR]        new primary key version; rewraps every data key (online)
  vulnvault keys disable|enable --version N [--admin-key FILE] [--dir DIR]
  vulnvault keys schedule-deletion --version N [--days 7-30] [--admin-key FILE] [--dir DIR]
  vulnvault keys cancel-deletion --version N [--admin-key FILE] [--dir DIR]
  vulnvault keys init [--admin-key FILE] [--dir DIR]          keyring for a directory made before encryption
  vulnvault backup --out FILE [--dir DIR] [--force]   consistent online backup of the stores (no keys, PKI or logs)
  vulnvault restore FILE [--dir DIR] [--force]        restore a backup into a stopped server's DIR
  vulnvault upload FILE --org ORG [--type nessus|xml|csv|sarif|cyclonedx|json]
                   [--dir DIR | --url U --cert C --key K --ca CA] [--idempotency-key K]
`;

/**
 * The errors the layers below raise for the operator: their message is one
 * complete line (what is wrong, where, what to do), printed as is.
 */
const OPERATOR_ERRORS = [
  ConfigError,
  KeyringError,
  AuditError,
  PkiError,
  BackupError,
  StartupError,
] as const;

async function main(argv: string[]): Promise<void> {
  // Keys, databases and logs are for this user only.
  process.umask(0o077);
  const [command, ...rest] = argv;
  switch (command) {
    case 'init':
      return initCommand(rest);
    case 'serve':
      return serveCommand(rest);
    case 'start':
      return startCommand(rest);
    case 'pki':
      return pkiCommand(rest);
    case 'policy':
      return policyCommand(rest);
    case 'audit':
      return auditCommand(rest);
    case 'keys':
      return keysCommand(rest);
    case 'backup':
      return backupCommand(rest);
    case 'restore':
      return restoreCommand(rest);
    case 'upload':
      return uploadCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(HELP);
      return;
    default:
      throw new CliError(`unknown command '${command}' (see 'vulnvault help')`, 2);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof CliError) {
      process.stderr.write(`vulnvault: ${err.message}\n`);
      process.exit(err.exitCode);
    }
    if (OPERATOR_ERRORS.some((type) => err instanceof type)) {
      process.stderr.write(`vulnvault: ${(err as Error).message}\n`);
      process.exit(1);
    }
    const e = err as Error;
    process.stderr.write(`vulnvault: unexpected error: ${e?.message ?? String(err)}\n`);
    if (process.env.VULNVAULT_DEBUG === '1') process.stderr.write(`${e?.stack ?? ''}\n`);
    process.exit(1);
  },
);
