// vulnvault policy grant|revoke|list: the only writer of the policy store.

import { openPolicyDb } from '../../adapters/sqlite/database.js';
import { createSqlitePolicyWriter } from '../../adapters/sqlite/policy-store.js';
import { DEFAULT_DIR, loadConfig, resolvePath } from '../../config/config.js';
import { CliError } from '../cli-error.js';
import { actionFromShort, type Action, type PrincipalRef } from '../../core/principal.js';
import type { Grant } from '../../core/ports.js';
import { parse, required } from '../args.js';

const ORG = /^[a-zA-Z0-9\-_. ]{1,64}$/;
const OU = /^[A-Za-z0-9 _.@-]{1,64}$/;
// OAuth2 client ids: Keycloak names, Auth0/Cognito random ids, Entra GUIDs,
// URL-shaped ids. No spaces, quotes or control characters.
const CLIENT = /^[A-Za-z0-9._~:@/+=-]{1,255}$/;
// IAM role or user ARNs in any partition (what API Gateway's AWS_IAM reports
// after mapping an assumed role back to its role).
const IAM =
  /^arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:iam::[0-9]{12}:(?:role|user)\/[A-Za-z0-9+=,.@_/-]{1,512}$/;

const PRINCIPAL_FLAGS = [
  { flag: '--ou', type: 'ou', re: OU, label: 'OU' },
  { flag: '--client', type: 'client', re: CLIENT, label: 'client' },
  { flag: '--iam', type: 'iam', re: IAM, label: 'IAM principal' },
] as const;

const HINTS: Record<string, string> = {
  '--client': ' (an OAuth2 client id: letters, digits and . _ ~ : @ / + = -, at most 255)',
  '--iam': ' (expected arn:aws:iam::123456789012:role/NAME or …:user/NAME)',
};

/** The one principal named by --ou, --client or --iam; undefined when none (list only). */
function principalOf(
  cmd: string,
  values: { ou?: string | undefined; client?: string | undefined; iam?: string | undefined },
  needed: boolean,
): PrincipalRef | undefined {
  const given = PRINCIPAL_FLAGS.filter((f) => values[f.type] !== undefined);
  if (given.length > 1) {
    throw new CliError(`${cmd}: give only one of --ou, --client, --iam`, 2);
  }
  const f = given[0];
  if (f === undefined) {
    if (needed) throw new CliError(`${cmd}: one of --ou, --client, --iam is required`, 2);
    return undefined;
  }
  const v = values[f.type] as string;
  if (!f.re.test(v)) {
    throw new CliError(`${cmd}: ${f.flag} '${v}' is not valid${HINTS[f.flag] ?? ''}`, 2);
  }
  return { type: f.type, name: v };
}

function describe(p: PrincipalRef): string {
  return `${PRINCIPAL_FLAGS.find((f) => f.type === p.type)?.label ?? p.type} ${p.name}`;
}

function action(cmd: string, v: string | undefined): Action {
  const a = actionFromShort(v ?? '');
  if (!a) throw new CliError(`${cmd}: --action must be read, write or triage`, 2);
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
    client: { type: 'string' },
    iam: { type: 'string' },
    action: { type: 'string' },
    org: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const config = loadConfig(values.dir);
  const db = openPolicyDb(resolvePath(config, config.storage.policies));
  try {
    const store = createSqlitePolicyWriter(db);
    if (sub === 'list') {
      const principal = principalOf(cmd, values, false);
      const grants = store.list({
        ...(principal ? { principal } : {}),
        ...(values.action ? { action: action(cmd, values.action) } : {}),
        ...(values.org ? { org: values.org } : {}),
      });
      process.stdout.write(values.json ? JSON.stringify(grants) + '\n' : table(grants));
      return;
    }
    const g: Grant = {
      principal: principalOf(cmd, values, true) as PrincipalRef,
      action: action(cmd, required(cmd, values.action, '--action')),
      org: check(cmd, '--org', required(cmd, values.org, '--org'), ORG),
    };
    const changed = sub === 'grant' ? store.grant(g) : store.revoke(g);
    const what = `${describe(g.principal)} ${g.action} on org ${g.org}`;
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
