// vulnvault audit verify: checks every audit log (authorization, data
// access, access, key-admin) against its hash chain, its signed checkpoints
// and the heads anchored outside the data directory. Exit 0 and "OK" when
// intact; exit 1 naming the log and the first problem otherwise.
// vulnvault audit anchor --out FILE: the same checks, then the current head
// of every log written to FILE (or stdout with '-'), to keep off the host and
// give back to `audit verify --anchor FILE`.

import { resolve, sep } from 'node:path';
import { writeFileSync } from 'node:fs';
import { formatHead } from '../../audit/heads.js';
import { DEFAULT_DIR, loadConfig } from '../../config/config.js';
import { checkAuditLogs } from '../audit-check.js';
import { CliError } from '../cli-error.js';
import { parse, required } from '../args.js';

export async function auditCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === 'verify') return verify(rest);
  if (sub === 'anchor') return anchor(rest);
  throw new CliError(`audit: unknown subcommand '${sub ?? ''}' (expected: verify, anchor)`, 2);
}

async function verify(argv: string[]): Promise<void> {
  const { values } = parse('audit verify', argv, {
    dir: { type: 'string', default: DEFAULT_DIR },
    key: { type: 'string' },
    anchor: { type: 'string', multiple: true },
  });
  const report = await checkAuditLogs(loadConfig(values.dir), {
    key: values.key,
    anchors: values.anchor ?? [],
  });
  for (const line of report.lines) process.stdout.write(`${line}\n`);
  if (report.failed) throw new CliError('audit verification failed', 1);
}

async function anchor(argv: string[]): Promise<void> {
  const { values } = parse('audit anchor', argv, {
    dir: { type: 'string', default: DEFAULT_DIR },
    key: { type: 'string' },
    anchor: { type: 'string', multiple: true },
    out: { type: 'string' },
  });
  const out = required('audit anchor', values.out, '--out');
  const config = loadConfig(values.dir);
  const report = await checkAuditLogs(config, { key: values.key, anchors: values.anchor ?? [] });
  // Progress goes to stderr so that `--out -` writes nothing but heads.
  for (const line of report.lines) process.stderr.write(`${line}\n`);
  // Anchoring a log that fails its checks would vouch for the damage.
  if (report.failed)
    throw new CliError('audit anchor: not written, the logs failed verification', 1);
  const text = report.heads.map((h) => formatHead(h) + '\n').join('');
  if (out === '-') {
    process.stdout.write(text);
    return;
  }
  const file = resolve(out);
  if (file.startsWith(config.dir + sep)) {
    process.stderr.write(
      `vulnvault: warning: ${file} is inside the data directory; copy it off the host, where a cut of the logs cannot reach it\n`,
    );
  }
  writeFileSync(file, text, { mode: 0o644 });
  for (const h of report.heads) process.stderr.write(`anchored ${h.log} at seq ${h.seq}\n`);
  process.stderr.write(`wrote ${file}\n`);
}
