// The audit trail from a validated config: paths resolved, the signing key
// created for a directory from before the chain, the syslog collector's
// certificates read once at start (a file that cannot be read stops it).

import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { anchorDirOf, DEFAULT_SYSLOG_PORT, resolvePath, type Config } from '../config/config.js';
import { AuditError } from './audit-error.js';
import type { SyslogSinkOptions } from './anchor-syslog-sink.js';
import { openAuditTrail, type AuditTrail, type AuditTrailOptions } from './audit-trail.js';
import { createSigningKey, loadSigningKey } from './signing-key.js';

function readPem(config: Config, file: string, what: string): string {
  const path = resolvePath(config, file);
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new AuditError(
      `cannot read the syslog anchor's ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}

export function syslogSinkOptionsOf(config: Config): SyslogSinkOptions | undefined {
  const s = config.audit.anchor.syslog;
  if (!s) return undefined;
  return {
    host: s.host,
    port: s.port ?? DEFAULT_SYSLOG_PORT,
    ca: readPem(config, s.ca, 'CA'),
    ...(s.cert && s.key
      ? { cert: readPem(config, s.cert, 'certificate'), key: readPem(config, s.key, 'key') }
      : {}),
    ...(s.serverName ? { serverName: s.serverName } : {}),
    origin: {
      hostname: hostname(),
      appName: s.appName ?? 'vulnvault',
      procId: String(process.pid),
    },
  };
}

export function openAuditTrailFromConfig(
  config: Config,
  report: AuditTrailOptions['report'],
): AuditTrail {
  const signingKeyFile = resolvePath(config, config.audit.signingKey);
  const verifyKeyFile = resolvePath(config, config.audit.verifyKey);
  if (!existsSync(signingKeyFile) && !existsSync(verifyKeyFile)) {
    // A directory from before the audit chain: give it a key once.
    createSigningKey(signingKeyFile, verifyKeyFile);
    report.warn({ key: verifyKeyFile }, 'created an audit signing key');
  }
  return openAuditTrail({
    authorizationLog: resolvePath(config, config.audit.authorizationLog),
    dataAccessLog: resolvePath(config, config.audit.dataAccessLog),
    accessLog: resolvePath(config, config.audit.accessLog),
    signingKey: loadSigningKey(signingKeyFile),
    checkpointEvery: config.audit.checkpointEvery,
    checkpointIntervalMs: config.audit.checkpointIntervalSeconds * 1000,
    anchorDir: anchorDirOf(config),
    syslog: syslogSinkOptionsOf(config),
    report,
  });
}
