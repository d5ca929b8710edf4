// Test fixtures: a data directory made by the real `init`, certificates made by
// the project's own PKI code, a real server over real TLS on loopback, and an
// HTTPS client that presents a client certificate.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { openVault, type Vault } from '../../src/app.js';
import { initDir } from '../../src/cli/commands/init.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { issueCertificate, type NameParts, type PemPair } from '../../src/pki/issue.js';

export interface TestDir {
  dir: string;
  ca: PemPair;
  scanner: PemPair;
  customer: PemPair;
  config: Config;
  cleanup(): void;
}

export function pemPair(dir: string, name: string): PemPair {
  return {
    certPem: readFileSync(join(dir, `${name}.crt`), 'utf8'),
    keyPem: readFileSync(join(dir, `${name}.key`), 'utf8'),
  };
}

export async function makeTestDir(): Promise<TestDir> {
  const dir = join(mkdtempSync(join(tmpdir(), 'vulnvault-test-')), 'vv');
  await initDir(dir, false, { write: () => true });
  return {
    dir,
    ca: pemPair(join(dir, 'pki'), 'ca'),
    scanner: pemPair(join(dir, 'pki', 'clients'), 'scanner'),
    customer: pemPair(join(dir, 'pki', 'clients'), 'customer'),
    config: loadConfig(dir),
    cleanup: () => rmSync(join(dir, '..'), { recursive: true, force: true }),
  };
}

export interface RunningVault {
  vault: Vault;
  port: number;
  url: string;
  logs: string[];
  close(): Promise<void>;
}

export async function startVault(config: Config): Promise<RunningVault> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const vault = await openVault({ ...config, server: { ...config.server, port: 0 } }, pino(sink));
  await vault.app.listen({ host: '127.0.0.1', port: 0 });
  const addr = vault.app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { vault, port, url: `https://127.0.0.1:${port}`, logs, close: () => vault.close() };
}

export async function clientCert(
  issuer: PemPair,
  subject: NameParts,
  opts: { notBefore?: Date; notAfter?: Date } = {},
): Promise<PemPair> {
  return issueCertificate(issuer, {
    kind: 'client',
    subject,
    notAfter: opts.notAfter ?? new Date(Date.now() + 3_600_000),
    ...(opts.notBefore ? { notBefore: opts.notBefore } : {}),
  });
}

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export interface CallOptions {
  method?: string;
  path: string;
  cert?: PemPair | undefined;
  /** Extra PEM appended to the client certificate (a chain). */
  chain?: string;
  ca: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  tls?: {
    minVersion?: 'TLSv1.2' | 'TLSv1.3';
    maxVersion?: 'TLSv1.2' | 'TLSv1.3';
    ciphers?: string;
  };
}

/** Reads a whole response; `json` is the parsed body, or undefined when it is not JSON. */
export function collectResponse(res: IncomingMessage): Promise<Response> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
    });
    res.on('error', reject);
  });
}

/** One HTTPS request on a fresh connection; rejects when TLS or the socket fails. */
export function call(port: number, o: CallOptions): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        method: o.method ?? 'GET',
        path: o.path,
        ca: o.ca,
        ...(o.cert ? { cert: o.cert.certPem + (o.chain ?? ''), key: o.cert.keyPem } : {}),
        servername: 'localhost',
        agent: false,
        headers: o.headers ?? {},
        ...(o.tls ?? {}),
      },
      (res) => void collectResponse(res).then(resolve, reject),
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

export function postJson(port: number, ca: string, cert: PemPair, body: unknown, path = '/vuln') {
  return call(port, {
    method: 'POST',
    path,
    ca,
    cert,
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
}

export function demoRecord(overrides: Record<string, unknown> = {}) {
  return {
    VulnID: 'VULN-0001',
    Org: 'org1',
    AssetName: 'web-01',
    DueDate: '12-31-2026',
    PluginId: 19506,
    PluginName: 'Nessus Scan Information',
    Priority: 'P1',
    ...overrides,
  };
}

/** The JSON lines of DIR/logs/NAME, parsed; none when the file does not exist yet. */
export function readLog(dir: string, name: string): Record<string, any>[] {
  let text = '';
  try {
    text = readFileSync(join(dir, 'logs', name), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function readAuthzLog(dir: string): Record<string, any>[] {
  return readLog(dir, 'authz.log');
}

export async function waitFor(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Counts stored findings straight from the SQLite file (read-only). */
export function countFindings(dir: string, org?: string): number {
  const db = new Database(join(dir, 'data', 'findings.db'), { readonly: true });
  try {
    const row = (
      org === undefined
        ? db.prepare('SELECT count(*) AS n FROM findings').get()
        : db.prepare('SELECT count(*) AS n FROM findings WHERE org = ?').get(org)
    ) as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}
