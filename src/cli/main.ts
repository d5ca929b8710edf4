#!/usr/bin/env node
// vulnvault command line. Every failure is one line on stderr and a non-zero
// exit code; stack traces only with VULNVAULT_DEBUG=1. Each command's module
// is loaded only when it runs, so --help (and a small command) does not load
// SQLite, the server or the AWS SDK first.

import { AuditError } from '../audit/audit-error.js';
import { BackupError } from '../backup/backup-error.js';
import { FeedError } from '../feeds/feed-error.js';
import { ConfigError } from '../config/config-error.js';
import { KeyringError } from '../crypto/keyring-error.js';
import { TokenError } from '../crypto/pkcs11/token-error.js';
import { PkiError } from '../pki/pki-error.js';
import { StartupError } from '../startup-error.js';
import { CliError } from './cli-error.js';
import { helpFor } from './help.js';

/**
 * The errors the layers below raise for the operator: their message is one
 * complete line (what is wrong, where, what to do), printed as is.
 */
const OPERATOR_ERRORS = [
  ConfigError,
  KeyringError,
  TokenError,
  AuditError,
  PkiError,
  BackupError,
  StartupError,
  FeedError,
] as const;

async function main(argv: string[]): Promise<void> {
  // Keys, databases and logs are for this user only.
  process.umask(0o077);
  // --help / -h anywhere (before --) answers before any parser sees it.
  const help = helpFor(argv);
  if (help !== undefined) {
    process.stdout.write(help);
    return;
  }
  const [command, ...rest] = argv;
  switch (command) {
    case 'init':
      return (await import('./commands/init.js')).initCommand(rest);
    case 'serve':
      return (await import('./commands/serve.js')).serveCommand(rest);
    case 'start':
      return (await import('./commands/serve.js')).startCommand(rest);
    case 'pki':
      return (await import('./commands/pki.js')).pkiCommand(rest);
    case 'policy':
      return (await import('./commands/policy.js')).policyCommand(rest);
    case 'audit':
      return (await import('./commands/audit.js')).auditCommand(rest);
    case 'keys':
      return (await import('./commands/keys.js')).keysCommand(rest);
    case 'backup':
      return (await import('./commands/backup.js')).backupCommand(rest);
    case 'restore':
      return (await import('./commands/backup.js')).restoreCommand(rest);
    case 'cert':
      return (await import('./commands/cert.js')).certCommand(rest);
    case 'upload':
      return (await import('./commands/upload.js')).uploadCommand(rest);
    case 'feeds':
      return (await import('./commands/feeds.js')).feedsCommand(rest);
    case 'sla':
      return (await import('./commands/sla.js')).slaCommand(rest);
    default:
      throw new CliError(
        `unknown command '${(command === 'help' ? rest[0] : command) ?? ''}' (see 'vulnvault --help')`,
        2,
      );
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
