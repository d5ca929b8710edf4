// vulnvault sla set|show: an org's SLA policy (days to fix per severity), in
// the findings database. Setting it recomputes the due time of the org's scan
// findings at once (seed records keep their DueDate); an org without its own
// policy follows triage.sla of the config (default critical 7, high 30,
// medium 90, low 180, info none).

import { openFindingsDb } from '../../adapters/sqlite/database.js';
import { createSqliteSlaStore } from '../../adapters/sqlite/sla-store.js';
import { DEFAULT_DIR, loadConfig, resolvePath } from '../../config/config.js';
import { VaultError } from '../../core/errors.js';
import { SEVERITIES, type Severity } from '../../core/finding.js';
import type { SlaPolicy } from '../../core/triage.js';
import { parse } from '../args.js';
import { CliError } from '../cli-error.js';

const ORG = /^[a-zA-Z0-9\-_. ]{1,64}$/;

/** "7" → 7, "none" → null; 1 to 3650 days. */
function days(cmd: string, severity: Severity, v: string): number | null {
  if (v === 'none') return null;
  if (!/^[0-9]{1,4}$/.test(v) || Number(v) < 1 || Number(v) > 3650) {
    throw new CliError(`${cmd}: --${severity} must be a number of days from 1 to 3650, or none`, 2);
  }
  return Number(v);
}

function show(policy: SlaPolicy, own: boolean): string {
  const rows = SEVERITIES.slice()
    .reverse()
    .map((s) => `${s.padEnd(9)}${policy[s] === null ? 'none' : `${policy[s]} days`}`);
  return `${rows.join('\n')}\n(${own ? "the org's own policy" : 'the default of the config (triage.sla)'})\n`;
}

export async function slaCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub !== 'set' && sub !== 'show') {
    throw new CliError(`sla: unknown subcommand '${sub ?? ''}' (expected: set, show)`, 2);
  }
  const cmd = `sla ${sub}`;
  const { values: v } = parse(cmd, rest, {
    dir: { type: 'string', default: DEFAULT_DIR },
    org: { type: 'string' },
    json: { type: 'boolean', default: false },
    critical: { type: 'string' },
    high: { type: 'string' },
    medium: { type: 'string' },
    low: { type: 'string' },
    info: { type: 'string' },
  });
  const values = v as typeof v & Partial<Record<Severity, string>>;
  const org = values.org;
  if (org === undefined || !ORG.test(org)) {
    throw new CliError(`${cmd}: --org ORG is required (letters, digits, - _ . and space)`, 2);
  }
  const given = SEVERITIES.filter((s) => values[s] !== undefined);
  if (sub === 'show' && given.length > 0) {
    throw new CliError(`${cmd}: --${given[0]} is an option of sla set`, 2);
  }
  if (sub === 'set' && given.length === 0) {
    throw new CliError(
      `${cmd}: give at least one of --critical, --high, --medium, --low, --info (days or none)`,
      2,
    );
  }
  const config = loadConfig(values.dir);
  const db = openFindingsDb(resolvePath(config, config.storage.findings));
  try {
    const store = createSqliteSlaStore(db);
    const own = await store.get(org);
    const current: SlaPolicy = own ?? { ...config.triage.sla };
    if (sub === 'show') {
      process.stdout.write(
        values.json
          ? `${JSON.stringify({ org, policy: current, own: own !== undefined })}\n`
          : show(current, own !== undefined),
      );
      return;
    }
    const next: SlaPolicy = { ...current };
    for (const s of given) next[s] = days(cmd, s, values[s] as string);
    let recomputed: number;
    try {
      ({ recomputed } = await store.set(org, next, new Date().toISOString()));
    } catch (err) {
      if (err instanceof VaultError && err.code === 'store_unavailable') {
        throw new CliError(
          `${cmd}: the findings database is busy or unavailable (a long scan import?); nothing changed, try again`,
        );
      }
      throw err;
    }
    process.stdout.write(show(next, true));
    process.stdout.write(`due times recomputed for ${recomputed} findings of ${org}\n`);
  } finally {
    db.close();
  }
}
