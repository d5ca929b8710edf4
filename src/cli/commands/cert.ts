// vulnvault cert: the client side of certificate enrolment (issue 15), run
// on the scanner or customer host, not the server's.
//   enroll  a new key pair made here, a CSR sent with a one-time token (EST simpleenroll)
//   renew   renews over mutual TLS (EST simplereenroll) when a third of the lifetime is left
//   watch   keeps a directory fresh: renews when due, sleeps until the next due time

import { readFileSync } from 'node:fs';
import { EstClientError, enroll, readCertDir, renewIfDue } from '../../client/est-client.js';
import { renewalDue } from '../../pki/renewal.js';
import { CliError } from '../cli-error.js';
import { parse, required } from '../args.js';

const SUBCOMMANDS = 'enroll, renew, watch';

export async function certCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  try {
    switch (sub) {
      case 'enroll':
        return await enrollCmd(rest);
      case 'renew':
        return await renewCmd(rest);
      case 'watch':
        return await watchCmd(rest);
      default:
        throw new CliError(`cert: unknown subcommand '${sub ?? ''}' (expected: ${SUBCOMMANDS})`, 2);
    }
  } catch (err) {
    if (err instanceof EstClientError) throw new CliError(`cert ${sub ?? ''}: ${err.message}`);
    throw err;
  }
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(
      `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}

async function enrollCmd(argv: string[]): Promise<void> {
  const { values } = parse('cert enroll', argv, {
    url: { type: 'string' },
    token: { type: 'string' },
    'token-file': { type: 'string' },
    ca: { type: 'string' },
    out: { type: 'string' },
    cn: { type: 'string' },
    ou: { type: 'string' },
  });
  const url = required('cert enroll', values.url, '--url');
  const out = required('cert enroll', values.out, '--out');
  const ca = readText(required('cert enroll', values.ca, '--ca'), 'CA certificate');
  // --token-file keeps the token out of the shell history and `ps`.
  const token =
    values['token-file'] !== undefined
      ? readText(values['token-file'], 'token file').trim()
      : required('cert enroll', values.token, '--token or --token-file');
  if (!/^https:\/\//.test(url)) throw new CliError('cert enroll: --url must be https://', 2);
  const r = await enroll({
    url,
    token,
    ca,
    dir: out,
    ...(values.cn !== undefined ? { cn: values.cn } : {}),
    ...(values.ou !== undefined ? { ou: values.ou } : {}),
  });
  process.stdout.write(
    `enrolled: ${out}/client.crt (serial ${r.serial}, expires ${r.notAfter.toISOString()}); key ${out}/client.key (0600, made here, never sent)\n`,
  );
}

async function renewCmd(argv: string[]): Promise<void> {
  const { values } = parse('cert renew', argv, {
    dir: { type: 'string' },
    force: { type: 'boolean', default: false },
  });
  const dir = required('cert renew', values.dir, '--dir');
  const r = await renewIfDue(dir, values.force);
  if (r.renewed) {
    process.stdout.write(
      `renewed ${dir}/client.crt (serial ${r.serial}, expires ${r.notAfter.toISOString()})\n`,
    );
  } else {
    process.stdout.write(
      `not due: ${dir}/client.crt expires ${r.notAfter.toISOString()}, renewal due from ${r.dueAt.toISOString()}\n`,
    );
  }
}

async function watchCmd(argv: string[]): Promise<void> {
  const { values } = parse('cert watch', argv, {
    dir: { type: 'string' },
    'retry-seconds': { type: 'string', default: '60' },
  });
  const dir = required('cert watch', values.dir, '--dir');
  const retryMs = Number(values['retry-seconds']) * 1000;
  if (!(retryMs >= 1000)) throw new CliError('cert watch: --retry-seconds must be at least 1', 2);
  for (;;) {
    let wait: number;
    try {
      const r = await renewIfDue(dir);
      if (r.renewed) {
        process.stdout.write(
          `${new Date().toISOString()} renewed (serial ${r.serial}, expires ${r.notAfter.toISOString()})\n`,
        );
      }
      wait = renewalDue(readCertDir(dir).cert).dueAt - Date.now();
    } catch (err) {
      if (!(err instanceof EstClientError)) throw err;
      process.stderr.write(`${new Date().toISOString()} ${err.message}; retrying\n`);
      wait = retryMs;
    }
    // Wake at least hourly: a clock jump or a suspended host is noticed.
    await new Promise((r) => setTimeout(r, Math.max(1000, Math.min(wait, 3_600_000))));
  }
}
