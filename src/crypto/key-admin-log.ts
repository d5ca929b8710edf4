// The key-admin audit log (DP 1.2, LO 1.4): every key operation is one record
// of a hash-chained JSON-lines file whose checkpoints are signed with the
// key-admin key itself, so neither the server nor anyone without that key can
// add, edit or drop a record unnoticed. `vulnvault audit verify` checks it
// against keys.adminPublicKey.

import type { KeyObject } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { checkpointFileOf } from '../audit/audit-file.js';
import { openChainedLog } from '../audit/chained-log.js';
import { resolvePath, type Config } from '../config/config.js';
import { adminKeyFingerprint } from './admin-key.js';

export const KEY_ADMIN_LOG = 'key-admin';

export function keyAdminLogFile(config: Config): string {
  return join(dirname(resolvePath(config, config.audit.authorizationLog)), 'key-admin.log');
}

export function logKeyEvent(
  file: string,
  adminKey: KeyObject,
  event: Record<string, unknown>,
): void {
  const log = openChainedLog({
    file,
    checkpointFile: checkpointFileOf(file),
    name: KEY_ADMIN_LOG,
    signingKey: adminKey,
    checkpointEvery: 1,
    checkpointIntervalMs: 3_600_000,
  });
  try {
    let user = 'unknown';
    try {
      user = userInfo().username;
    } catch {
      // no passwd entry for this uid
    }
    log.append({
      time: new Date().toISOString(),
      log: KEY_ADMIN_LOG,
      admin: adminKeyFingerprint(adminKey),
      user,
      host: hostname(),
      ...event,
    });
  } finally {
    log.close();
  }
}
