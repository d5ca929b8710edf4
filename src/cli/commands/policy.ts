// vulnvault policy grant|revoke|list: the only writer of the policy store.

import { openPolicyDb } from '../../adapters/sqlite/database.js';
import { createSqlitePolicyWriter } from '../../adapters/sqlite/policy-store.js';
import { DEFAULT_DIR, loadConfig, resolvePath } from '../../config/config.js';
import { CliError } from '../../core/cli-error.js';
import { actionFromShort, type Action } from '../../core/principal.js';
import type { Grant } from '../../core/ports.js';
import { parse, required } from '../args.js';

const ORG = /^[a-zA-Z0-9\-_. ]{1,64}$/;
const OU = /^[A-Za-z0-9 _.@-]{1,64}$/;

function action(cmd: string, v: string | undefined): Action {
  const a = actionFromShort(v ?? '');
  if (!a) throw new CliError(`${cmd}: --action must be read or write`, 2);
  return a;
}

function check(cmd: string, flag: string, v: string, re: RegExp): string {
  if (!re.test(v)) throw new CliError(`${cmd}: ${flag} '${v}' is not valid`, 2);
  return v;
}

export function policyCommand(argv: string[]): void {
  const [sub, ...rest] = argv;
  if (sub !== 'grant' && sub !== 'revoke' && sub !== 'list') {
    throw new CliError(
      `policy: unknown subcommand '${sub ?? ''}' (expected: grant, revoke, list)`,
      2,
    );
  }
  const cmd = `policy ${sub}`;
  const { values } = parse(cmd, rest, {
    dir: { type: 'string', default: DEFAULT_DIR },
    ou: { type: 'string' },
    action: { type: 'string' },
    org: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const config = loadConfig(values.dir);
  const db = openPolicyDb(resolvePath(config, config.storage.policies));
  try {
    const store = createSqlitePolicyWriter(db);
    if (sub === 'list') {
      const grants = store.list({
        ...(values.ou ? { principal: { type: 'ou' as const, name: values.ou } } : {}),
        ...(values.action ? { action: action(cmd, values.action) } : {}),
        ...(values.org ? { org: values.org } : {}),
      });
      process.stdout.write(values.json ? JSON.stringify(grants) + '\n' : table(grants));
      return;
    }
    const g: Grant = {
      principal: { type: 'ou', name: check(cmd, '--ou', required(cmd, values.ou, '--ou'), OU) },
      action: action(cmd, required(cmd, values.action, '--action')),
      org: check(cmd, '--org', required(cmd, values.org, '--org'), ORG),
    };
    const changed = sub === 'grant' ? store.grant(g) : store.revoke(g);
    const what = `OU ${g.principal.name} ${g.action} on org ${g.org}`;
    process.stdout.write(
      sub === 'grant'
        ? changed
          ? `granted ${what}\n`
          : `already granted: ${what}\n`
        : changed
          ? `revoked ${what}\n`
          : `no such grant: ${what} (nothing changed)\n`,
    );
  } finally {
    db.close();
  }
}

function table(grants: Grant[]): string {
  if (grants.length === 0) return 'no grants\n';
  const rows = grants.map((g) => [`${g.principal.type}:${g.principal.name}`, g.action, g.org]);
  const w = [0, 1].map((i) => Math.max(...rows.map((r) => (r[i] as string).length), 9));
  const line = (r: string[]) =>
    `${(r[0] ?? '').padEnd(w[0] ?? 0)}  ${(r[1] ?? '').padEnd(w[1] ?? 0)}  ${r[2] ?? ''}\n`;
  return line(['PRINCIPAL', 'ACTION', 'ORG']) + rows.map(line).join('');
}
