// vulnvault backup --out FILE / vulnvault restore FILE
import { existsSync } from 'node:fs';
import { createBackup, restoreBackup } from '../../backup/backup.js';
import { DEFAULT_DIR, loadConfig } from '../../config/config.js';
import { CliError } from '../cli-error.js';
import { parse, required } from '../args.js';
import { runningServer } from '../pid-file.js';

export async function backupCommand(argv: string[]): Promise<void> {
  const { values } = parse('backup', argv, {
    dir: { type: 'string', default: DEFAULT_DIR },
    out: { type: 'string' },
    force: { type: 'boolean', default: false },
  });
  const out = required('backup', values.out, '--out');
  if (existsSync(out) && !values.force) {
    throw new CliError(`backup: ${out} exists (use --force to replace it)`);
  }
  const manifest = await createBackup(loadConfig(values.dir), out);
  const what = manifest.stores.map((s) => `${s.store} ${s.bytes} bytes`).join(', ');
  process.stdout.write(`backup written to ${out} (${what}); keys, PKI and logs are not included\n`);
}

export async function restoreCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(
    'restore',
    argv,
    {
      dir: { type: 'string', default: DEFAULT_DIR },
      force: { type: 'boolean', default: false },
    },
    true,
  );
  const file = positionals[0];
  if (!file || positionals.length > 1)
    throw new CliError('restore: give exactly one backup FILE', 2);
  const config = loadConfig(values.dir);
  const pid = runningServer(config.dir);
  if (pid !== undefined) {
    throw new CliError(`restore: a server (pid ${pid}) is using ${values.dir}; stop it first`);
  }
  const manifest = await restoreBackup(config, file, { force: values.force });
  process.stdout.write(
    `restored ${manifest.stores.map((s) => s.store).join(', ')} from ${file} (taken ${manifest.createdAt})\n`,
  );
}
