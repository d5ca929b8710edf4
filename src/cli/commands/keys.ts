// vulnvault keys: key management for the local keyring (DP 1.2).
//   status                               versions, states, which orgs each protects
//   init                                 keyring + key-admin key for a directory made before encryption
//   rotate                               new primary version, rewrap every data key (server keeps serving)
//   rotate-cursor [--grace 1h]           new page-cursor secret; the old one accepted for the grace period
//   disable|enable --version N
//   schedule-deletion --version N [--days 7..30]   cancel-deletion --version N
// Every keyring change needs --admin-key (default DIR.key-admin/key-admin.pem),
// which the server never reads, and is recorded in logs/key-admin.log. The
// page-cursor secret is no keyring key: it protects no data (a cursor only
// says where a page resumes), so rotating it needs no key-admin key.

import { existsSync } from 'node:fs';
import { openFindingsDb, type Db } from '../../adapters/sqlite/database.js';
import { createSqliteDataKeyStore } from '../../adapters/sqlite/data-key-store.js';
import { DEFAULT_DIR, loadConfig, resolvePath, type Config } from '../../config/config.js';
import { CliError } from '../cli-error.js';
import {
  createAdminKey,
  defaultAdminKeyFile,
  loadAdminKey,
  loadAdminPublicKey,
} from '../../crypto/admin-key.js';
import {
  changeState,
  createKeyring,
  DELETION_DAYS,
  keyStatus,
  rotate,
  type KeyAdminContext,
  type StateChange,
} from '../../crypto/key-admin.js';
import { keyAdminLogFile, logKeyEvent } from '../../crypto/key-admin-log.js';
import { MAX_CURSOR_GRACE_MS, rotateCursorSecret } from '../../crypto/cursor-secret.js';
import { readKeyring } from '../../crypto/keyring.js';
import { parseDuration } from '../../pki/issue.js';
import { parse, required } from '../args.js';

const SUBS = [
  'status',
  'init',
  'rotate',
  'rotate-cursor',
  'disable',
  'enable',
  'schedule-deletion',
  'cancel-deletion',
] as const;
type Sub = (typeof SUBS)[number];

function contextOf(config: Config): KeyAdminContext {
  if (config.keys.provider === 'pkcs11') {
    throw new CliError(
      "keys: this directory's key-encryption key is in a PKCS#11 token (keys.provider 'pkcs11'): it has no keyring; generate, rotate and destroy token keys with the token's own tools",
    );
  }
  if (config.keys.provider !== 'local') {
    throw new CliError(
      "keys: this directory uses AWS KMS (keys.provider 'kms'): rotate, disable and schedule deletion of the KMS key in KMS (automatic rotation is on in the CDK app)",
    );
  }
  return {
    keyringFile: resolvePath(config, config.keys.keyring),
    adminPublicKey: loadAdminPublicKey(resolvePath(config, config.keys.adminPublicKey)),
  };
}

/** The findings database, waiting long for a lock a running upload holds. */
function openStore(config: Config): Db {
  const db = openFindingsDb(resolvePath(config, config.storage.findings));
  db.pragma('busy_timeout = 120000');
  return db;
}

/** --grace: 0 or a duration up to 7 days; default one hour. */
function graceArg(cmd: string, v: string | undefined): number {
  if (v === undefined) return 3_600_000;
  if (v.trim() === '0') return 0;
  const ms = parseDuration(v);
  if (ms === undefined || ms > MAX_CURSOR_GRACE_MS) {
    throw new CliError(
      `${cmd}: --grace must be 0 or a duration such as 30m, 1h, 2d (at most 7d)`,
      2,
    );
  }
  return ms;
}

function versionArg(cmd: string, v: string | undefined): number {
  const s = required(cmd, v, '--version');
  if (!/^\d{1,9}$/.test(s)) throw new CliError(`${cmd}: --version must be a number`, 2);
  return Number(s);
}

export async function keysCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (!(SUBS as readonly string[]).includes(sub ?? '')) {
    throw new CliError(`keys: unknown subcommand '${sub ?? ''}' (expected: ${SUBS.join(', ')})`, 2);
  }
  const cmd = `keys ${sub}`;
  const { values } = parse(cmd, rest, {
    dir: { type: 'string', default: DEFAULT_DIR },
    'admin-key': { type: 'string' },
    version: { type: 'string' },
    days: { type: 'string' },
    json: { type: 'boolean', default: false },
    grace: { type: 'string' },
  });
  const config = loadConfig(values.dir);
  const adminFile = values['admin-key'] ?? defaultAdminKeyFile(config.dir);
  const logFile = keyAdminLogFile(config);
  const out = (s: string) => process.stdout.write(s);

  if (values.grace !== undefined && sub !== 'rotate-cursor') {
    throw new CliError(`${cmd}: --grace is only for rotate-cursor`, 2);
  }

  switch (sub as Sub) {
    case 'rotate-cursor': {
      const file = resolvePath(config, config.keys.cursorSecret);
      const { acceptedUntil } = rotateCursorSecret(file, graceArg(cmd, values.grace));
      out(
        `page-cursor secret rotated (${file}); ` +
          (acceptedUntil === null
            ? 'cursors made before are refused from now on\n'
            : `cursors made before are accepted until ${acceptedUntil}\n`),
      );
      return;
    }
    case 'init': {
      const file = resolvePath(config, config.keys.keyring);
      if (existsSync(file)) throw new CliError(`${cmd}: a keyring already exists at ${file}`);
      const adminKey = createAdminKey(adminFile, resolvePath(config, config.keys.adminPublicKey));
      createKeyring(file, adminKey);
      logKeyEvent(logFile, adminKey, { event: 'create', version: 1 });
      out(`keyring created at ${file} (version 1); key-admin key at ${adminFile}\n`);
      out('keep the key-admin key away from the server: it is needed only to change keys\n');
      return;
    }
    case 'status': {
      const ctx = contextOf(config);
      const ring = readKeyring(ctx.keyringFile, ctx.adminPublicKey);
      const db = openStore(config);
      try {
        const rows = keyStatus(ring, await createSqliteDataKeyStore(db).list());
        if (values.json) {
          out(
            JSON.stringify({ serial: ring.serial, primary: ring.primary, versions: rows }) + '\n',
          );
          return;
        }
        out(`keyring ${ctx.keyringFile} (serial ${ring.serial})\n`);
        for (const r of rows) {
          const del = r.deletionDate ? ` deletion ${r.deletionDate}` : '';
          const orgs = r.orgs.length > 0 ? r.orgs.join(', ') : '-';
          out(
            `version ${r.version}${r.primary ? ' (primary)' : ''}: ${r.state}${del}, created ${r.createdAt}, protects ${r.orgs.length} org data key(s): ${orgs}\n`,
          );
        }
      } finally {
        db.close();
      }
      return;
    }
    case 'rotate': {
      const ctx = contextOf(config);
      const adminKey = loadAdminKey(adminFile);
      const db = openStore(config);
      try {
        const r = await rotate(
          ctx,
          adminKey,
          createSqliteDataKeyStore(db),
          config.keys.reloadIntervalMs + 250,
        );
        logKeyEvent(logFile, adminKey, {
          event: 'rotate',
          version: r.version,
          previous: r.previous,
          rewrapped: r.rewrapped,
          skipped: r.skipped,
          purged: r.purged,
        });
        out(
          `rotated: version ${r.version} is primary (was ${r.previous}); ${r.rewrapped} data key(s) rewrapped\n`,
        );
        for (const s of r.skipped) {
          out(`not rewrapped: ${s.org} (under ${s.kek}: ${s.reason})\n`);
        }
      } finally {
        db.close();
      }
      return;
    }
    default: {
      const op = sub as StateChange;
      const ctx = contextOf(config);
      const version = versionArg(cmd, values.version);
      let days: number | undefined;
      if (values.days !== undefined) {
        if (op !== 'schedule-deletion')
          throw new CliError(`${cmd}: --days is only for schedule-deletion`, 2);
        if (!/^\d{1,3}$/.test(values.days)) {
          throw new CliError(
            `${cmd}: --days must be ${DELETION_DAYS.min} to ${DELETION_DAYS.max}`,
            2,
          );
        }
        days = Number(values.days);
      }
      const adminKey = loadAdminKey(adminFile);
      const db = openStore(config);
      let keys;
      try {
        keys = await createSqliteDataKeyStore(db).list();
      } finally {
        db.close();
      }
      const r = changeState(ctx, adminKey, keys, op, version, days);
      logKeyEvent(logFile, adminKey, {
        event: op,
        version,
        deletionDate: r.deletionDate,
        purged: r.purged,
      });
      const what = {
        disable: 'disabled',
        enable: 'enabled',
        'schedule-deletion': `scheduled for deletion on ${r.deletionDate ?? ''}`,
        'cancel-deletion': 'deletion cancelled (the version is disabled)',
      }[op];
      out(`version ${version} ${what}\n`);
    }
  }
}
