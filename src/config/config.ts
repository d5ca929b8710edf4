// vulnvault.json: validated once at start, frozen, and passed down. Paths in
// it are relative to the directory that holds it. Precedence for the few
// settings that have flags: command-line flag > file > default.

import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { CliError } from '../core/cli-error.js';

export const CONFIG_FILE = 'vulnvault.json';
export const DEFAULT_DIR = '.vulnvault';

export type TlsPolicy = 'TLS_1_2' | 'TLS_1_3';

export interface ConfigFile {
  version: 1;
  /** uploadLimitBytes: cap of a streamed scan upload (default 1 GiB). */
  server: { host: string; port: number; bodyLimitBytes: number; uploadLimitBytes?: number };
  tls: { policy: TlsPolicy; cert: string; key: string; clientCa: string };
  pki: { caCert: string; caKey: string; clientsDir: string; clientCertTtl: string };
  storage: { findings: string; policies: string };
  audit: {
    authorizationLog: string;
    dataAccessLog: string;
    signingKey: string;
    verifyKey: string;
    checkpointEvery: number;
    checkpointIntervalSeconds: number;
  };
}

export interface Config extends ConfigFile {
  /** Absolute path of the directory holding vulnvault.json. */
  dir: string;
}

export function defaultConfigFile(): ConfigFile {
  return {
    version: 1,
    server: {
      host: '127.0.0.1',
      port: 8443,
      bodyLimitBytes: 2 * 1024 * 1024,
      uploadLimitBytes: 1024 * 1024 * 1024,
    },
    tls: {
      policy: 'TLS_1_2',
      cert: 'pki/server.crt',
      key: 'pki/server.key',
      clientCa: 'pki/ca.crt',
    },
    pki: {
      caCert: 'pki/ca.crt',
      caKey: 'pki/ca.key',
      clientsDir: 'pki/clients',
      clientCertTtl: '24h',
    },
    storage: { findings: 'data/findings.db', policies: 'data/policy.db' },
    audit: {
      authorizationLog: 'logs/authz.log',
      dataAccessLog: 'logs/data-access.log',
      signingKey: 'keys/audit-signing.key',
      verifyKey: 'keys/audit-signing.pub',
      checkpointEvery: 1000,
      checkpointIntervalSeconds: 60,
    },
  };
}

const path = { type: 'string', minLength: 1, maxLength: 1024 } as const;
const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'server', 'tls', 'pki', 'storage', 'audit'],
  properties: {
    version: { const: 1 },
    server: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port', 'bodyLimitBytes'],
      properties: {
        host: { type: 'string', minLength: 1, maxLength: 255 },
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        bodyLimitBytes: { type: 'integer', minimum: 1024, maximum: 1073741824 },
        uploadLimitBytes: { type: 'integer', minimum: 1024, maximum: 68719476736 },
      },
    },
    tls: {
      type: 'object',
      additionalProperties: false,
      required: ['policy', 'cert', 'key', 'clientCa'],
      properties: {
        policy: { enum: ['TLS_1_2', 'TLS_1_3'] },
        cert: path,
        key: path,
        clientCa: path,
      },
    },
    pki: {
      type: 'object',
      additionalProperties: false,
      required: ['caCert', 'caKey', 'clientsDir', 'clientCertTtl'],
      properties: {
        caCert: path,
        caKey: path,
        clientsDir: path,
        clientCertTtl: { type: 'string', pattern: '^[0-9]{1,6}[smhd]$' },
      },
    },
    storage: {
      type: 'object',
      additionalProperties: false,
      required: ['findings', 'policies'],
      properties: { findings: path, policies: path },
    },
    audit: {
      type: 'object',
      additionalProperties: false,
      // Only the first key is required: directories made before the audit
      // chain existed keep working, with defaults for the rest.
      required: ['authorizationLog'],
      properties: {
        authorizationLog: path,
        dataAccessLog: path,
        signingKey: path,
        verifyKey: path,
        checkpointEvery: { type: 'integer', minimum: 1, maximum: 1000000 },
        checkpointIntervalSeconds: { type: 'integer', minimum: 1, maximum: 86400 },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: false }).compile<ConfigFile>(schema);

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Reads and validates DIR/vulnvault.json; throws CliError with one clear line. */
export function loadConfig(dir: string): Config {
  const abs = resolve(dir);
  const file = join(abs, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new CliError(`no config at ${file}: run 'vulnvault init --dir ${dir}' first`);
    }
    throw new CliError(`cannot read config ${file}: ${code ?? 'unknown error'}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CliError(`config ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!validate(data)) {
    const e = validate.errors?.[0];
    const where = e?.instancePath || '(root)';
    const extra =
      e?.keyword === 'additionalProperties'
        ? ` '${String((e.params as { additionalProperty?: string }).additionalProperty)}'`
        : '';
    throw new CliError(`config ${file}: ${where} ${e?.message ?? 'is invalid'}${extra}`);
  }
  const audit = { ...defaultConfigFile().audit, ...data.audit };
  return deepFreeze({ ...data, audit, dir: abs });
}

export const DEFAULT_UPLOAD_LIMIT = 1024 * 1024 * 1024;

/** Cap of a streamed scan upload: the file's value, else 1 GiB. */
export function uploadLimitOf(config: Pick<Config, 'server'>): number {
  return config.server.uploadLimitBytes ?? DEFAULT_UPLOAD_LIMIT;
}

/** Resolves a config path (relative to the config dir). */
export function resolvePath(config: Pick<Config, 'dir'>, p: string): string {
  return isAbsolute(p) ? p : join(config.dir, p);
}
