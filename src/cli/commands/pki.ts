// vulnvault pki issue: a client certificate signed by the directory's CA,
// written to pki/clients/NAME.crt|key (key mode 0600).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_DIR, loadConfig, resolvePath } from '../../config/config.js';
import { CliError } from '../../core/cli-error.js';
import {
  checkClientName,
  issueClientCertificate,
  readPemPair,
  writePemPair,
} from '../../pki/dev-pki.js';
import { parseDuration } from '../../pki/issue.js';
import { parse, required } from '../args.js';

const TEXT = /^[A-Za-z0-9 _.@-]{1,64}$/;

export async function pkiCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub !== 'issue')
    throw new CliError(`pki: unknown subcommand '${sub ?? ''}' (expected: issue)`, 2);
  const { values } = parse('pki issue', rest, {
    dir: { type: 'string', default: DEFAULT_DIR },
    name: { type: 'string' },
    ou: { type: 'string' },
    cn: { type: 'string' },
    o: { type: 'string' },
    ttl: { type: 'string' },
    force: { type: 'boolean', default: false },
  });
  const name = required('pki issue', values.name, '--name');
  const ou = required('pki issue', values.ou, '--ou');
  const cn = required('pki issue', values.cn, '--cn');
  checkClientName(name);
  for (const [flag, v] of [
    ['--ou', ou],
    ['--cn', cn],
    ['--o', values.o],
  ] as const) {
    if (v !== undefined && !TEXT.test(v)) {
      throw new CliError(`pki issue: ${flag} must be 1-64 letters, digits, spaces or . _ @ -`, 2);
    }
  }
  const config = loadConfig(values.dir);
  const ttlText = values.ttl ?? config.pki.clientCertTtl;
  const ttl = parseDuration(ttlText);
  if (ttl === undefined) {
    throw new CliError(`pki issue: --ttl '${ttlText}' is not a duration like 24h, 90m, 7d`, 2);
  }
  const clients = resolvePath(config, config.pki.clientsDir);
  const certFile = join(clients, `${name}.crt`);
  const keyFile = join(clients, `${name}.key`);
  if (!values.force && (existsSync(certFile) || existsSync(keyFile))) {
    throw new CliError(`pki issue: ${certFile} exists (use --force to replace it)`);
  }
  const ca = readPemPair(
    resolvePath(config, config.pki.caCert),
    resolvePath(config, config.pki.caKey),
    'the CA',
  );
  const pair = await issueClientCertificate(
    ca,
    { cn, ou: [ou], o: values.o ?? 'vulnvault-demo' },
    ttl,
  );
  writePemPair(certFile, keyFile, pair);
  process.stdout.write(
    `issued ${certFile} (OU=${ou}, CN=${cn}, valid ${ttlText}); key ${keyFile} (mode 0600)\n`,
  );
}
