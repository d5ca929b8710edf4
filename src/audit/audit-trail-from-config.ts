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
import type { CheckpointKey } from './checkpoint.js';
import { checkVerifyKey, openTokenSigningKey } from './token-signing-key.js';
import { isPkcs11Uri } from '../crypto/pkcs11/uri.js';

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
  const verifyKeyFile = resolvePath(config, config.audit.verifyKey);
  if (isPkcs11Uri(config.audit.signingKey)) {
    // The key stays in the token: never a key file, never a fallback to one.
    const signer = openTokenSigningKey(config.audit.signingKey);
    try {
      checkVerifyKey(signer, verifyKeyFile, config.audit.signingKey);
      const trail = openAuditTrail(trailOptions(config, signer, report));
      return {
        ...trail,
        close: () => trail.close().finally(() => signer.close()),
      };
    } catch (err) {
      signer.close();
      throw err;
    }
  }
  const signingKeyFile = resolvePath(config, config.audit.signingKey);
  if (!existsSync(signingKeyFile) && !existsSync(verifyKeyFile)) {
    // A directory from before the audit chain: give it a key once.
    createSigningKey(signingKeyFile, verifyKeyFile);
    report.warn({ key: verifyKeyFile }, 'created an audit signing key');
  }
  return openAuditTrail(trailOptions(config, loadSigningKey(signingKeyFile), report));
}

function trailOptions(
  config: Config,
  signingKey: CheckpointKey,
  report: AuditTrailOptions['report'],
): AuditTrailOptions {
  return {
    authorizationLog: resolvePath(config, config.audit.authorizationLog),
    dataAccessLog: resolvePath(config, config.audit.dataAccessLog),
    accessLog: resolvePath(config, config.audit.accessLog),
    signingKey,
    checkpointEvery: config.audit.checkpointEvery,
    checkpointIntervalMs: config.audit.checkpointIntervalSeconds * 1000,
    anchorDir: anchorDirOf(config),
    syslog: syslogSinkOptionsOf(config),
    report,
  };
}
