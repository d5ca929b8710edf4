// vulnvault pki: client certificates and their life cycle (IAM 1.1).
//   issue          a client certificate signed by the directory's CA
//   renew          a new key and certificate with the same subject
//   revoke         adds a certificate to the CRL (the server refuses it within ~1 s)
//   crl            re-signs the CRL with a fresh validity, same entries
//   rotate-server  a new server key and certificate (same names)
//   enroll-token   a one-time token a client enrols with over EST (its key never leaves it)
//   enroll-tokens  lists the tokens (never the tokens themselves: they are kept hashed)
//   revoke-token   revokes an unused token by its id
// Files are replaced by rename; the running server reloads them without a restart.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_DIR,
  estSettings,
  loadConfig,
  resolvePath,
  type Config,
} from '../../config/config.js';
import { openEnrolStore } from '../../adapters/sqlite/enrol-store.js';
import { CliError } from '../cli-error.js';
import { CRL_VALIDITY_MS, createCrl, entriesFor, normalizeSerial } from '../../pki/crl.js';
import {
  checkClientName,
  issueClientCertificate,
  writeFileAtomic,
  writePemPair,
} from '../../pki/dev-pki.js';
import { issueCertificate, parseDuration, type Issuer } from '../../pki/issue.js';
import { isPkcs11Uri } from '../../crypto/pkcs11/uri.js';
import { withCa as withCaOf } from '../../pki/ca-source.js';
import { x509 } from '../../pki/x509.js';
import { parse, required } from '../args.js';

const TEXT = /^[A-Za-z0-9 _.@-]{1,64}$/;
const SUBCOMMANDS =
  'issue, renew, revoke, crl, rotate-server, enroll-token, enroll-tokens, revoke-token';

export async function pkiCommand(argv: string[]): Promise<void> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'issue':
      return issue(rest);
    case 'renew':
      return renew(rest);
    case 'revoke':
      return revoke(rest);
    case 'crl':
      return refreshCrl(rest);
    case 'rotate-server':
      return rotateServer(rest);
    case 'enroll-token':
      return enrollToken(rest);
    case 'enroll-tokens':
      return listTokens(rest);
    case 'revoke-token':
      return revokeToken(rest);
    default:
      throw new CliError(`pki: unknown subcommand '${sub ?? ''}' (expected: ${SUBCOMMANDS})`, 2);
  }
}

/**
 * Runs `fn` with the directory's CA: its key in a PEM file, or in a PKCS#11
 * token when pki.caKey is a pkcs11: URI (the key never leaves the token).
 */
function withCa<T>(config: Config, fn: (ca: Issuer) => Promise<T>): Promise<T> {
  const key = config.pki.caKey;
  return withCaOf(
    resolvePath(config, config.pki.caCert),
    isPkcs11Uri(key) ? key : resolvePath(config, key),
    fn,
  );
}

function clientFiles(config: Config, name: string): { certFile: string; keyFile: string } {
  checkClientName(name);
  const clients = resolvePath(config, config.pki.clientsDir);
  return { certFile: join(clients, `${name}.crt`), keyFile: join(clients, `${name}.key`) };
}

/** A TTL from --ttl or the config, refused when over the edge's maximum lifetime. */
function ttlOf(command: string, config: Config, flag: string | undefined): [number, string] {
  const text = flag ?? config.pki.clientCertTtl;
  const ttl = parseDuration(text);
  if (ttl === undefined) {
    throw new CliError(`${command}: --ttl '${text}' is not a duration like 24h, 90m, 7d`, 2);
  }
  const max = parseDuration(config.tls.maxClientCertLifetime) as number;
  if (ttl > max) {
    throw new CliError(
      `${command}: --ttl ${text} is longer than tls.maxClientCertLifetime (${config.tls.maxClientCertLifetime}); the server would refuse it`,
      2,
    );
  }
  return [ttl, text];
}

async function issue(argv: string[]): Promise<void> {
  const { values } = parse('pki issue', argv, {
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
  const [ttl, ttlText] = ttlOf('pki issue', config, values.ttl);
  const { certFile, keyFile } = clientFiles(config, name);
  if (!values.force && (existsSync(certFile) || existsSync(keyFile))) {
    throw new CliError(`pki issue: ${certFile} exists (use --force to replace it)`);
  }
  const pair = await withCa(config, (ca) =>
    issueClientCertificate(ca, { cn, ou: [ou], o: values.o ?? 'vulnvault-demo' }, ttl),
  );
  writePemPair(certFile, keyFile, pair);
  process.stdout.write(
    `issued ${certFile} (OU=${ou}, CN=${cn}, valid ${ttlText}); key ${keyFile} (mode 0600)\n`,
  );
}

function readCert(file: string): x509.X509Certificate {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  try {
    return new x509.X509Certificate(pem);
  } catch {
    throw new CliError(`${file} is not a PEM certificate`);
  }
}

async function renew(argv: string[]): Promise<void> {
  const { values } = parse('pki renew', argv, {
    dir: { type: 'string', default: DEFAULT_DIR },
    name: { type: 'string' },
    ttl: { type: 'string' },
  });
  const config = loadConfig(values.dir);
  const { certFile, keyFile } = clientFiles(config, required('pki renew', values.name, '--name'));
  const old = readCert(certFile);
  const [ttl, ttlText] = ttlOf('pki renew', config, values.ttl);
  // The subject is copied attribute by attribute from the DER, never via a DN string.
  const field = (oid: string) => old.subjectName.getField(oid);
  const cn = field('2.5.4.3')[0] ?? '';
  const o = field('2.5.4.10')[0];
  const ou = field('2.5.4.11');
  const pair = await withCa(config, (ca) =>
    issueClientCertificate(ca, { cn, ou, ...(o !== undefined ? { o } : {}) }, ttl),
  );
  writePemPair(certFile, keyFile, pair);
  const serial = new x509.X509Certificate(pair.certPem).serialNumber;
  process.stdout.write(
    `renewed ${certFile} (CN=${cn}, serial ${serial}, valid ${ttlText}); the previous certificate stays valid until it expires unless revoked\n`,
  );
}

async function writeCrl(config: Config, ca: Issuer, add: readonly string[] = []): Promise<number> {
  const file = resolvePath(config, config.tls.crl);
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new CliError(`cannot read CRL ${file}: ${(err as NodeJS.ErrnoException).code}`);
    }
  }
  let entries;
  try {
    entries = entriesFor(ca, current);
  } catch {
    throw new CliError(`CRL ${file} cannot be parsed; fix or remove it first`);
  }
  for (const serial of add) {
    if (!entries.some((e) => normalizeSerial(e.serial) === normalizeSerial(serial))) {
      entries.push({ serial, revokedAt: new Date() });
    }
  }
  writeFileAtomic(
    file,
    await createCrl(ca, entries, new Date(Date.now() + CRL_VALIDITY_MS)),
    0o644,
  );
  return entries.length;
}

async function revoke(argv: string[]): Promise<void> {
  const { values } = parse('pki revoke', argv, {
    dir: { type: 'string', default: DEFAULT_DIR },
    name: { type: 'string' },
    serial: { type: 'string' },
  });
  const config = loadConfig(values.dir);
  if (values.serial !== undefined) {
    // A certificate this host never saw (enrolled over EST): by serial.
    if (values.name !== undefined)
      throw new CliError('pki revoke: give --name or --serial, not both', 2);
    if (!/^[0-9A-Fa-f]{1,40}$/.test(values.serial)) {
      throw new CliError('pki revoke: --serial must be the hexadecimal serial number', 2);
    }
    const serial = values.serial;
    const { n, renewed } = await withCa(config, (ca) => revokeWithLineage(config, ca, serial));
    process.stdout.write(
      `revoked serial ${serial}${renewed > 0 ? ` and ${renewed} certificate(s) renewed from it over EST` : ''}; ${resolvePath(config, config.tls.crl)} lists ${n} certificate(s); a running server refuses it within seconds\n`,
    );
    return;
  }
  const { certFile } = clientFiles(
    config,
    required('pki revoke', values.name, '--name or --serial'),
  );
  const cert = readCert(certFile);
  const { n, renewed } = await withCa(config, (ca) => {
    const caCert = new x509.X509Certificate(ca.certPem);
    if (cert.issuer !== caCert.subject) {
      throw new CliError(`pki revoke: ${certFile} was not issued by this directory's CA`);
    }
    return revokeWithLineage(config, ca, cert.serialNumber);
  });
  process.stdout.write(
    `revoked ${certFile} (serial ${cert.serialNumber}${renewed > 0 ? ` and ${renewed} certificate(s) renewed from it over EST` : ''}); ${resolvePath(config, config.tls.crl)} lists ${n} certificate(s); a running server refuses it within seconds\n`,
  );
}

/**
 * Revokes a serial and, when EST is on, every certificate renewed from it,
 * holding the enrolment store's issuance lock: a re-enrolment running at the
 * same moment either sees this CRL or is listed in it (enrol-store.ts).
 */
async function revokeWithLineage(
  config: Config,
  ca: Issuer,
  serial: string,
): Promise<{ n: number; renewed: number }> {
  const est = estSettings(config);
  if (!est.enabled && !existsSync(est.store)) {
    return { n: await writeCrl(config, ca, [serial]), renewed: 0 };
  }
  const store = openEnrolStore(est.store);
  try {
    return await store.locked(async () => {
      const serials = store.lineage(serial);
      return { n: await writeCrl(config, ca, serials), renewed: serials.length - 1 };
    });
  } finally {
    store.close();
  }
}

function enrolStoreOf(config: Config) {
  const est = estSettings(config);
  if (!est.enabled) {
    process.stderr.write(
      'note: pki.est.enabled is false in the config; the server does not serve EST until it is set and the server restarted\n',
    );
  }
  return openEnrolStore(est.store);
}

async function enrollToken(argv: string[]): Promise<void> {
  const { values } = parse('pki enroll-token', argv, {
    dir: { type: 'string', default: DEFAULT_DIR },
    ou: { type: 'string' },
    cn: { type: 'string' },
    ttl: { type: 'string', default: '1h' },
  });
  const ou = required('pki enroll-token', values.ou, '--ou');
  const cn = required('pki enroll-token', values.cn, '--cn');
  for (const [flag, v] of [
    ['--ou', ou],
    ['--cn', cn],
  ] as const) {
    if (!TEXT.test(v)) {
      throw new CliError(
        `pki enroll-token: ${flag} must be 1-64 letters, digits, spaces or . _ @ -`,
        2,
      );
    }
  }
  const ttl = parseDuration(values.ttl);
  if (ttl === undefined || ttl > 7 * 86_400_000) {
    throw new CliError(
      `pki enroll-token: --ttl '${values.ttl}' must be a duration like 1h, at most 7d`,
      2,
    );
  }
  const config = loadConfig(values.dir);
  const store = enrolStoreOf(config);
  try {
    const t = store.createToken(ou, cn, ttl);
    process.stderr.write(
      `enrolment token ${t.id} for OU=${ou}, CN=${cn}, single use, expires ${t.expiresAt}; it is shown once (stored hashed):\n`,
    );
    process.stdout.write(`${t.token}\n`);
  } finally {
    store.close();
  }
}

async function listTokens(argv: string[]): Promise<void> {
  const { values } = parse('pki enroll-tokens', argv, {
    dir: { type: 'string', default: DEFAULT_DIR },
  });
  const store = enrolStoreOf(loadConfig(values.dir));
  try {
    const now = Date.now();
    for (const t of store.listTokens()) {
      const state =
        t.revokedAt !== null
          ? 'revoked'
          : t.usedAt !== null
            ? `used ${t.usedAt} (serial ${t.usedSerial ?? '?'})`
            : Date.parse(t.expiresAt) <= now
              ? 'expired'
              : 'unused';
      process.stdout.write(`${t.id}  OU=${t.ou}  CN=${t.cn}  expires ${t.expiresAt}  ${state}\n`);
    }
  } finally {
    store.close();
  }
}

async function revokeToken(argv: string[]): Promise<void> {
  const { values } = parse('pki revoke-token', argv, {
    dir: { type: 'string', default: DEFAULT_DIR },
    id: { type: 'string' },
  });
  const id = required('pki revoke-token', values.id, '--id');
  const store = enrolStoreOf(loadConfig(values.dir));
  try {
    if (!store.revokeToken(id)) {
      throw new CliError(
        `pki revoke-token: no unrevoked token ${id} (see vulnvault pki enroll-tokens)`,
      );
    }
    process.stdout.write(`revoked enrolment token ${id}\n`);
  } finally {
    store.close();
  }
}

async function refreshCrl(argv: string[]): Promise<void> {
  const { values } = parse('pki crl', argv, { dir: { type: 'string', default: DEFAULT_DIR } });
  const config = loadConfig(values.dir);
  const n = await withCa(config, (ca) => writeCrl(config, ca));
  process.stdout.write(
    `re-signed ${resolvePath(config, config.tls.crl)} (${n} revoked certificate(s))\n`,
  );
}

async function rotateServer(argv: string[]): Promise<void> {
  const { values } = parse('pki rotate-server', argv, {
    dir: { type: 'string', default: DEFAULT_DIR },
    ttl: { type: 'string', default: '365d' },
  });
  const config = loadConfig(values.dir);
  const ttl = parseDuration(values.ttl);
  if (ttl === undefined) {
    throw new CliError(`pki rotate-server: --ttl '${values.ttl}' is not a duration like 365d`, 2);
  }
  const certFile = resolvePath(config, config.tls.cert);
  const old = readCert(certFile);
  const sanExt = old.getExtension(x509.SubjectAlternativeNameExtension);
  const sans = (sanExt?.names.items ?? [])
    .filter((n) => n.type === 'dns' || n.type === 'ip')
    .map((n) => n.value);
  const cn = old.subjectName.getField('2.5.4.3')[0] ?? 'localhost';
  const o = old.subjectName.getField('2.5.4.10')[0];
  const pair = await withCa(config, (ca) =>
    issueCertificate(ca, {
      kind: 'server',
      subject: { cn, ...(o !== undefined ? { o } : {}) },
      sans: sans.length > 0 ? sans : ['localhost', '127.0.0.1', '::1'],
      notAfter: new Date(Date.now() + ttl),
    }),
  );
  writePemPair(certFile, resolvePath(config, config.tls.key), pair);
  const serial = new x509.X509Certificate(pair.certPem).serialNumber;
  process.stdout.write(
    `rotated the server certificate ${certFile} (serial ${serial}, names ${sans.join(', ')}); a running server uses it for new connections within seconds\n`,
  );
}
