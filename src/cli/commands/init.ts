// vulnvault init: a ready-to-run data directory with a development PKI, the
// config, empty stores, the reference demo's policy, and the keyring with
// its key-admin key (written outside DIR: the server never holds it).

import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openFindingsDb, openPolicyDb } from '../../adapters/sqlite/database.js';
import { createSqlitePolicyWriter } from '../../adapters/sqlite/policy-store.js';
import {
  anchorDirOf,
  CONFIG_FILE,
  DEFAULT_DIR,
  defaultConfigFile,
  resolvePath,
} from '../../config/config.js';
import { CliError } from '../cli-error.js';
import { setAsideStaleAnchorDir } from '../../audit/anchor-dir.js';
import { createSigningKey } from '../../audit/signing-key.js';
import { createAdminKey, defaultAdminKeyFile } from '../../crypto/admin-key.js';
import { createCursorSecret } from '../../crypto/cursor-secret.js';
import { createKeyring } from '../../crypto/key-admin.js';
import { keyAdminLogFile, logKeyEvent } from '../../crypto/key-admin-log.js';
import { createCa, issueCertificate, parseDuration, type Issuer } from '../../pki/issue.js';
import { Token } from '../../crypto/pkcs11/token.js';
import { keyUriOn, parsePkcs11Uri } from '../../crypto/pkcs11/uri.js';
import { checkVerifyKey, openTokenSigningKey } from '../../audit/token-signing-key.js';
import { CRL_VALIDITY_MS, createCrl } from '../../pki/crl.js';
import { issueClientCertificate, writeFileAtomic, writePemPair } from '../../pki/dev-pki.js';
import { parse } from '../args.js';
import { gitWorkTreeOf, ignoredByGit } from '../git-work-tree.js';

const DEMO_O = 'vulnvault-demo';
const YEAR_MS = 365 * 86_400_000;

export interface InitResult {
  dir: string;
  /** The key-admin key file; none when the KEK is in a PKCS#11 token. */
  adminKey: string | undefined;
  port: number;
}

/** The names init gives the keys it generates in a PKCS#11 token. */
export const TOKEN_KEY_NAMES = {
  ca: 'vulnvault-ca',
  kek: 'vulnvault-kek',
  audit: 'vulnvault-audit',
} as const;

export interface InitOptions {
  /**
   * A pkcs11: URI naming a token (pkcs11:token=…?module-path=…): the CA key,
   * the KEK and the audit signing key are generated in it, non-extractable,
   * and none of them is written to DIR.
   */
  pkcs11?: string;
}

type Out = { write(text: string): unknown };

/**
 * Writes DIR and prints what is where on `out`; warnings (private keys left
 * where git would commit them) go to `warn`. What to run next is the
 * caller's to say: `init` and `start` differ there.
 */
export async function initDir(
  dirArg: string,
  force: boolean,
  out: Out = process.stdout,
  adminKeyArg?: string,
  warn: Out = process.stderr,
  opts: InitOptions = {},
): Promise<InitResult> {
  const tokenKeys = opts.pkcs11
    ? {
        ca: keyUriOn(opts.pkcs11, TOKEN_KEY_NAMES.ca),
        kek: keyUriOn(opts.pkcs11, TOKEN_KEY_NAMES.kek),
        audit: keyUriOn(opts.pkcs11, TOKEN_KEY_NAMES.audit),
      }
    : undefined;
  const dir = resolve(dirArg);
  const adminKeyFile = resolve(adminKeyArg ?? defaultAdminKeyFile(dir));
  if (adminKeyFile.startsWith(`${dir}/`)) {
    throw new CliError(
      `--admin-key must be outside ${dirArg}: the key-admin key must not be where the server can read it`,
    );
  }
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    if (!force) {
      throw new CliError(
        `${dirArg} already exists; refusing to overwrite it (use --force to replace it)`,
      );
    }
    // --force replaces a vulnvault directory, never an arbitrary one.
    if (!existsSync(join(dir, CONFIG_FILE))) {
      throw new CliError(
        `${dirArg} is not empty and holds no ${CONFIG_FILE}; refusing to delete it`,
      );
    }
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  const cfg = defaultConfigFile();
  const ctx = { dir };
  const ttl = parseDuration(cfg.pki.clientCertTtl) as number;

  const caSubject = { cn: 'vulnvault development CA', o: DEMO_O };
  const caNotAfter = new Date(Date.now() + 5 * YEAR_MS);
  let ca: Issuer;
  let closeCa = () => {};
  if (tokenKeys) {
    generateTokenKeys(tokenKeys);
    const { createTokenCaCert, openTokenCa } = await import('../../pki/token-ca.js');
    const certPem = await createTokenCaCert(caSubject, caNotAfter, tokenKeys.ca);
    writeFileAtomic(resolvePath(ctx, cfg.pki.caCert), certPem, 0o644);
    const tokenCa = await openTokenCa(certPem, tokenKeys.ca);
    ca = tokenCa;
    closeCa = () => tokenCa.close();
    cfg.pki.caKey = tokenKeys.ca;
  } else {
    const pair = await createCa(caSubject, caNotAfter);
    writePemPair(resolvePath(ctx, cfg.pki.caCert), resolvePath(ctx, cfg.pki.caKey), pair);
    ca = pair;
  }
  try {
    // An empty CRL from the start: the server checks revocation from day one
    // and `pki revoke` only has to add entries.
    writeFileAtomic(
      resolvePath(ctx, cfg.tls.crl),
      await createCrl(ca, [], new Date(Date.now() + CRL_VALIDITY_MS)),
      0o644,
    );
    const server = await issueCertificate(ca, {
      kind: 'server',
      subject: { cn: 'localhost', o: DEMO_O },
      sans: ['localhost', '127.0.0.1', '::1'],
      notAfter: new Date(Date.now() + YEAR_MS),
    });
    writePemPair(resolvePath(ctx, cfg.tls.cert), resolvePath(ctx, cfg.tls.key), server);
    const clients = resolvePath(ctx, cfg.pki.clientsDir);
    for (const [name, ou, cn] of [
      ['scanner', 'scanner', 'nessus-1'],
      ['customer', 'customer', 'customer-1'],
    ] as const) {
      const pair = await issueClientCertificate(ca, { cn, ou: [ou], o: DEMO_O }, ttl);
      writePemPair(join(clients, `${name}.crt`), join(clients, `${name}.key`), pair);
    }
  } finally {
    closeCa();
  }

  openFindingsDb(resolvePath(ctx, cfg.storage.findings)).close();
  const policyDb = openPolicyDb(resolvePath(ctx, cfg.storage.policies));
  const policies = createSqlitePolicyWriter(policyDb);
  // The reference demo's policy: scanners write org1…org6, customers read
  // and triage org1 (scanners never triage).
  for (let i = 1; i <= 6; i++) {
    policies.grant({
      principal: { type: 'ou', name: 'scanner' },
      action: 'findings:write',
      org: `org${i}`,
    });
  }
  policies.grant({
    principal: { type: 'ou', name: 'customer' },
    action: 'findings:read',
    org: 'org1',
  });
  policies.grant({
    principal: { type: 'ou', name: 'customer' },
    action: 'findings:triage',
    org: 'org1',
  });
  policyDb.close();
  mkdirSync(join(dir, 'logs'), { recursive: true, mode: 0o700 });
  // The audit anchor lives beside DIR, outside it (LO 1.5).
  const anchorDir = anchorDirOf({ ...cfg, dir });
  const staleAnchor = setAsideStaleAnchorDir(anchorDir);
  if (staleAnchor) out.write(`vulnvault: the previous audit anchor was moved to ${staleAnchor}\n`);
  mkdirSync(anchorDir, { recursive: true, mode: 0o700 });
  if (tokenKeys) {
    // The verify key is the token key's public half; the private half stays there.
    const signer = openTokenSigningKey(tokenKeys.audit);
    try {
      checkVerifyKey(signer, resolvePath(ctx, cfg.audit.verifyKey), tokenKeys.audit);
    } finally {
      signer.close();
    }
    cfg.audit.signingKey = tokenKeys.audit;
    cfg.keys = { ...cfg.keys, provider: 'pkcs11', pkcs11: { kek: tokenKeys.kek } };
    createCursorSecret(resolvePath(ctx, cfg.keys.cursorSecret));
    writeFileSync(join(dir, CONFIG_FILE), JSON.stringify(cfg, null, 2) + '\n', { mode: 0o600 });
    out.write(initSummary(dirArg, undefined, tokenKeys));
    for (const w of keyPlacementWarnings(dir)) warn.write(`vulnvault: warning: ${w}\n`);
    return { dir, adminKey: undefined, port: cfg.server.port };
  }
  createSigningKey(resolvePath(ctx, cfg.audit.signingKey), resolvePath(ctx, cfg.audit.verifyKey));

  const adminKey = createAdminKey(adminKeyFile, resolvePath(ctx, cfg.keys.adminPublicKey));
  createKeyring(resolvePath(ctx, cfg.keys.keyring), adminKey);
  createCursorSecret(resolvePath(ctx, cfg.keys.cursorSecret));

  writeFileSync(join(dir, CONFIG_FILE), JSON.stringify(cfg, null, 2) + '\n', { mode: 0o600 });
  logKeyEvent(keyAdminLogFile({ ...cfg, dir }), adminKey, { event: 'create', version: 1 });
  out.write(initSummary(dirArg, adminKeyFile));
  for (const w of keyPlacementWarnings(dir, adminKeyFile)) warn.write(`vulnvault: warning: ${w}\n`);
  return { dir, adminKey: adminKeyFile, port: cfg.server.port };
}

/** Generates the CA key, the KEK and the audit key in the token, refusing to replace any. */
function generateTokenKeys(keys: { ca: string; kek: string; audit: string }): void {
  const token = Token.open(parsePkcs11Uri(keys.ca));
  try {
    token.generate(parsePkcs11Uri(keys.ca), 'ec-p256');
    token.generate(parsePkcs11Uri(keys.kek), 'aes-256');
    token.generate(parsePkcs11Uri(keys.audit), 'ed25519');
  } finally {
    token.close();
  }
}

/**
 * One warning per place init wrote private keys into a git work tree that
 * does not ignore it (or where git cannot tell), saying how to move them.
 */
function keyPlacementWarnings(dir: string, adminKeyFile?: string): string[] {
  const warnings: string[] = [];
  const check = (path: string, what: string, remedy: string) => {
    const tree = gitWorkTreeOf(path);
    if (tree === undefined) return;
    const ignored = ignoredByGit(tree, path);
    if (ignored === true) return;
    const why =
      ignored === false ? 'git does not ignore it' : 'git could not tell whether it is ignored';
    warnings.push(
      `${what} is inside the git work tree ${tree} and ${why}: 'git add -A' would commit it. ${remedy}`,
    );
  };
  check(
    dir,
    `the data directory ${dir} (it holds private keys: pki/, keys/)`,
    'Add it to .gitignore, or use --dir with a directory outside the work tree.',
  );
  if (adminKeyFile === undefined) return warnings;
  check(
    adminKeyFile,
    `the key-admin private key ${adminKeyFile}`,
    'Move it out of the work tree (e.g. to ~/vulnvault-key-admin.pem) and give that path to ' +
      "'vulnvault keys … --admin-key FILE'; 'vulnvault init --admin-key FILE' writes it elsewhere " +
      'from the start. Or add its directory to .gitignore.',
  );
  return warnings;
}

/** The files init wrote, in the directory's own spelling. */
export function initSummary(
  dirArg: string,
  adminKeyFile: string | undefined,
  tokenKeys?: { ca: string; kek: string; audit: string },
): string {
  const d = dirArg.replace(/\/+$/, '');
  const name = (uri: string) => uri.split('?')[0] ?? uri;
  if (tokenKeys) {
    return [
      `vulnvault: initialised ${d} (keys in a PKCS#11 token)`,
      `  config        ${d}/${CONFIG_FILE}`,
      `  CA            ${d}/pki/ca.crt (key ${name(tokenKeys.ca)}, in the token)`,
      `  server cert   ${d}/pki/server.crt (localhost, 127.0.0.1, ::1)`,
      `  clients       ${d}/pki/clients/scanner.crt (OU=scanner), ${d}/pki/clients/customer.crt (OU=customer), valid 24h`,
      `  policy        OU scanner may write org1…org6; OU customer may read org1`,
      `  audit key     ${name(tokenKeys.audit)} (in the token; verify key ${d}/keys/audit-signing.pub)`,
      `  audit anchor  ${resolve(dirArg)}.audit-anchor/ (outside ${d}): the audit logs' signed heads; copy it off this host`,
      `  KEK           ${name(tokenKeys.kek)} (in the token): wraps each org's data key`,
      `  cursor secret ${d}/keys/cursor-secret.json (mode 0600): signs page cursors`,
      `  PIN           from VULNVAULT_PKCS11_PIN, or pin-source=file:… in the URIs`,
      '',
      '',
    ].join('\n');
  }
  return [
    `vulnvault: initialised ${d}`,
    `  config        ${d}/${CONFIG_FILE}`,
    `  CA            ${d}/pki/ca.crt (key ${d}/pki/ca.key, mode 0600)`,
    `  server cert   ${d}/pki/server.crt (localhost, 127.0.0.1, ::1)`,
    `  clients       ${d}/pki/clients/scanner.crt (OU=scanner), ${d}/pki/clients/customer.crt (OU=customer), valid 24h`,
    `  policy        OU scanner may write org1…org6; OU customer may read org1`,
    `  audit anchor  ${resolve(dirArg)}.audit-anchor/ (outside ${d}): the audit logs' signed heads; copy it off this host`,
    `  keyring       ${d}/keys/keyring.json (mode 0600): wraps each org's data key`,
    `  cursor secret ${d}/keys/cursor-secret.json (mode 0600): signs page cursors`,
    `  key-admin key ${adminKeyFile} (mode 0600): needed only by 'vulnvault keys'; move it off this host`,
    '',
    '',
  ].join('\n');
}

/** curl commands for the demo record against `url` (the first write, a read, a refusal). */
export function tryCommands(dirArg: string, url: string): string {
  const d = dirArg.replace(/\/+$/, '');
  const as = (who: string) =>
    `curl --cacert ${d}/pki/ca.crt --cert ${d}/pki/clients/${who}.crt --key ${d}/pki/clients/${who}.key`;
  const record =
    '{"VulnID":"VULN-0001","Org":"org1","AssetName":"web-01","DueDate":"12-31-2026","PluginId":19506,"PluginName":"Nessus Scan Information","Priority":"P1"}';
  return [
    `  ${as('scanner')} -H 'content-type: application/json' -d '${record}' ${url}/vuln`,
    `  ${as('customer')} '${url}/vuln?org=org1'`,
    `  ${as('customer')} '${url}/vuln?org=org5'    # 403: customer may not read org5`,
    '',
  ].join('\n');
}

export async function initCommand(argv: string[]): Promise<void> {
  const { values } = parse('init', argv, {
    dir: { type: 'string', default: DEFAULT_DIR },
    force: { type: 'boolean', default: false },
    'admin-key': { type: 'string' },
    pkcs11: { type: 'string' },
  });
  const r = await initDir(
    values.dir,
    values.force,
    process.stdout,
    values['admin-key'],
    process.stderr,
    values.pkcs11 !== undefined ? { pkcs11: values.pkcs11 } : {},
  );
  // Nothing listens yet: say so, with the URL the config will serve on.
  process.stdout.write(
    `Start the server (vulnvault serve), then try:\n${tryCommands(values.dir, `https://127.0.0.1:${r.port}`)}`,
  );
}
