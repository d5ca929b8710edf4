// vulnvault audit verify: checks both audit logs against their hash chains
// and signed checkpoints. Exit 0 and "OK" when intact; exit 1 naming the
// first bad record otherwise. The key-admin log (when there is one) is
// checked too, against the key-admin public key that signs its checkpoints.

import { existsSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { basename } from 'node:path';
import { checkpointFileOf } from '../../audit/audit-file.js';
import { verifyChain } from '../../audit/chain.js';
import { readLogLines, readSmallLogLines } from '../../audit/log-lines.js';
import { loadVerifyKey } from '../../audit/signing-key.js';
import { DEFAULT_DIR, loadConfig, resolvePath } from '../../config/config.js';
import { CliError } from '../cli-error.js';
import { loadAdminPublicKey } from '../../crypto/admin-key.js';
import { KEY_ADMIN_LOG, keyAdminLogFile } from '../../crypto/key-admin-log.js';
import { parse } from '../args.js';

export async function auditCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub !== 'verify')
    throw new CliError(`audit: unknown subcommand '${sub ?? ''}' (expected: verify)`, 2);
  const { values } = parse('audit verify', rest, {
    dir: { type: 'string', default: DEFAULT_DIR },
    key: { type: 'string' },
  });
  const config = loadConfig(values.dir);
  // --key lets an auditor verify with a copy of the public key kept off-host.
  const publicKey = loadVerifyKey(values.key ?? resolvePath(config, config.audit.verifyKey));
  let failed = false;
  const logs: [string, string, () => KeyObject][] = [
    ['authz', resolvePath(config, config.audit.authorizationLog), () => publicKey],
    ['data-access', resolvePath(config, config.audit.dataAccessLog), () => publicKey],
  ];
  const keyLog = keyAdminLogFile(config);
  if (existsSync(keyLog)) {
    logs.push([
      KEY_ADMIN_LOG,
      keyLog,
      () => loadAdminPublicKey(resolvePath(config, config.keys.adminPublicKey)),
    ]);
  }
  for (const [name, file, keyOf] of logs) {
    const result = await verifyChain(
      name,
      readLogLines(file),
      readSmallLogLines(checkpointFileOf(file)),
      keyOf(),
    );
    if (result.ok) {
      const sealed = result.sealed > 0 ? `, ${result.sealed} torn record(s) sealed` : '';
      process.stdout.write(
        `OK ${basename(file)}: ${result.records} records, ${result.checkpoints} checkpoints (last at seq ${result.lastCheckpointSeq})${sealed}\n`,
      );
    } else {
      failed = true;
      process.stdout.write(`FAIL ${basename(file)}: ${result.error}\n`);
    }
  }
  if (failed) throw new CliError('audit verification failed', 1);
}
