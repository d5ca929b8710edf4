// vulnvault.json: validated once at start, frozen, and passed down. Paths in
// it are relative to the directory that holds it. Precedence for the few
// settings that have flags: command-line flag > file > default.

import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { parseCidr } from '../core/cidr.js';
import { CliError } from '../core/cli-error.js';

export const CONFIG_FILE = 'vulnvault.json';
export const DEFAULT_DIR = '.vulnvault';

export type TlsPolicy = 'TLS_1_2' | 'TLS_1_3';

export interface TlsSettings {
  policy: TlsPolicy;
  cert: string;
  key: string;
  clientCa: string;
  /** PEM file of CRLs (label X509 CRL), one per CA in clientCa. Missing file = none revoked yet. */
  crl: string;
  /** Longest client-certificate lifetime (notAfter − notBefore) the edge accepts. */
  maxClientCertLifetime: string;
  /** How often the server looks for changed TLS files (cert, key, CA bundle, CRL). */
  reloadIntervalMs: number;
}

/** NS 1.1: CIDR lists. An empty allow list allows every address not denied. */
export interface NetworkSettings {
  allow: string[];
  deny: string[];
  /** Direct peers whose X-Forwarded-For is believed; nobody else's is. */
  trustedProxies: string[];
}

/** DoS limits of the listener. */
export interface LimitSettings {
  handshakeTimeoutMs: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  idleTimeoutMs: number;
  maxHeaderCount: number;
  maxHeaderBytes: number;
  maxConnectionsPerIp: number;
  maxConnections: number;
}

export interface RateSettings {
  /** Tokens added per second. */
  rate: number;
  /** Bucket size: the most requests that can arrive at once. */
  burst: number;
}

export interface UsagePlan extends RateSettings {
  quota?: { limit: number; period: 'day' | 'month' };
}

/** CSH 1.2: a global bucket, and usage plans assigned to principals (OUs). */
export interface ThrottleSettings {
  global: RateSettings;
  defaultPlan: string;
  plans: Record<string, UsagePlan>;
  /** OU → plan name. Principals not listed get defaultPlan. */
  assignments: Record<string, string>;
}

/** DP 1.1/1.2: who wraps the per-org data keys. */
export interface KeySettings {
  provider: 'local' | 'kms';
  /** Local keyring (mode 0600); its changes are signed by the key-admin key. */
  keyring: string;
  /** The key-admin public key the keyring's signature is checked against. */
  adminPublicKey: string;
  /** How often the server looks for a changed keyring. */
  reloadIntervalMs: number;
  /** Longest time an unwrapped data key is used before it is unwrapped again. */
  cacheSeconds: number;
  kms?: { keyId: string; region: string; endpoint?: string };
}

export interface ConfigFile {
  version: 1;
  /** uploadLimitBytes: cap of a streamed scan upload (default 1 GiB). */
  server: { host: string; port: number; bodyLimitBytes: number; uploadLimitBytes?: number };
  tls: TlsSettings;
  pki: { caCert: string; caKey: string; clientsDir: string; clientCertTtl: string };
  network: NetworkSettings;
  limits: LimitSettings;
  throttle: ThrottleSettings;
  storage: { findings: string; policies: string; usage: string };
  audit: {
    authorizationLog: string;
    accessLog: string;
    dataAccessLog: string;
    signingKey: string;
    verifyKey: string;
    checkpointEvery: number;
    checkpointIntervalSeconds: number;
  };
  keys: KeySettings;
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
      crl: 'pki/ca.crl',
      maxClientCertLifetime: '24h',
      reloadIntervalMs: 1000,
    },
    pki: {
      caCert: 'pki/ca.crt',
      caKey: 'pki/ca.key',
      clientsDir: 'pki/clients',
      clientCertTtl: '24h',
    },
    network: { allow: [], deny: [], trustedProxies: [] },
    limits: {
      handshakeTimeoutMs: 10_000,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 5_000,
      idleTimeoutMs: 60_000,
      maxHeaderCount: 64,
      maxHeaderBytes: 16_384,
      maxConnectionsPerIp: 64,
      maxConnections: 1024,
    },
    throttle: {
      global: { rate: 2000, burst: 4000 },
      defaultPlan: 'standard',
      plans: { standard: { rate: 100, burst: 200 } },
      assignments: {},
    },
    storage: { findings: 'data/findings.db', policies: 'data/policy.db', usage: 'data/usage.db' },
    audit: {
      authorizationLog: 'logs/authz.log',
      accessLog: 'logs/access.log',
      dataAccessLog: 'logs/data-access.log',
      signingKey: 'keys/audit-signing.key',
      verifyKey: 'keys/audit-signing.pub',
      checkpointEvery: 1000,
      checkpointIntervalSeconds: 60,
    },
    keys: {
      provider: 'local',
      keyring: 'keys/keyring.json',
      adminPublicKey: 'keys/key-admin.pub',
      reloadIntervalMs: 1000,
      cacheSeconds: 300,
    },
  };
}

const path = { type: 'string', minLength: 1, maxLength: 1024 } as const;
const duration = { type: 'string', pattern: '^[0-9]{1,6}[smhd]$' } as const;
const ms = (min: number, max: number) => ({ type: 'integer', minimum: min, maximum: max }) as const;
const cidrs = {
  type: 'array',
  maxItems: 10_000,
  items: { type: 'string', maxLength: 64 },
} as const;
const rate = {
  type: 'object',
  additionalProperties: false,
  required: ['rate', 'burst'],
  properties: {
    rate: { type: 'number', exclusiveMinimum: 0, maximum: 1e9 },
    burst: { type: 'integer', minimum: 1, maximum: 1e9 },
  },
} as const;
const plan = {
  type: 'object',
  additionalProperties: false,
  required: ['rate', 'burst'],
  properties: {
    ...rate.properties,
    quota: {
      type: 'object',
      additionalProperties: false,
      required: ['limit', 'period'],
      properties: {
        limit: { type: 'integer', minimum: 1, maximum: 1e12 },
        period: { enum: ['day', 'month'] },
      },
    },
  },
} as const;
const planName = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' } as const;
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
        crl: path,
        maxClientCertLifetime: duration,
        reloadIntervalMs: ms(100, 3_600_000),
      },
    },
    network: {
      type: 'object',
      additionalProperties: false,
      properties: { allow: cidrs, deny: cidrs, trustedProxies: cidrs },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: {
        handshakeTimeoutMs: ms(100, 600_000),
        headersTimeoutMs: ms(100, 600_000),
        requestTimeoutMs: ms(100, 3_600_000),
        keepAliveTimeoutMs: ms(100, 600_000),
        idleTimeoutMs: ms(100, 3_600_000),
        maxHeaderCount: ms(8, 1000),
        maxHeaderBytes: ms(1024, 1_048_576),
        maxConnectionsPerIp: ms(1, 1_000_000),
        maxConnections: ms(1, 1_000_000),
      },
    },
    throttle: {
      type: 'object',
      additionalProperties: false,
      properties: {
        global: rate,
        defaultPlan: planName,
        plans: {
          type: 'object',
          propertyNames: planName,
          additionalProperties: plan,
          minProperties: 1,
        },
        assignments: {
          type: 'object',
          propertyNames: { type: 'string', minLength: 1, maxLength: 64 },
          additionalProperties: planName,
        },
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
        clientCertTtl: duration,
      },
    },
    storage: {
      type: 'object',
      additionalProperties: false,
      required: ['findings', 'policies'],
      properties: { findings: path, policies: path, usage: path },
    },
    audit: {
      type: 'object',
      additionalProperties: false,
      // Only the first key is required: directories made before the audit
      // chain existed keep working, with defaults for the rest.
      required: ['authorizationLog'],
      properties: {
        authorizationLog: path,
        accessLog: path,
        dataAccessLog: path,
        signingKey: path,
        verifyKey: path,
        checkpointEvery: { type: 'integer', minimum: 1, maximum: 1000000 },
        checkpointIntervalSeconds: { type: 'integer', minimum: 1, maximum: 86400 },
      },
    },
    keys: {
      type: 'object',
      additionalProperties: false,
      properties: {
        provider: { enum: ['local', 'kms'] },
        keyring: path,
        adminPublicKey: path,
        reloadIntervalMs: ms(100, 3_600_000),
        cacheSeconds: { type: 'integer', minimum: 1, maximum: 86400 },
        kms: {
          type: 'object',
          additionalProperties: false,
          required: ['keyId', 'region'],
          properties: {
            keyId: { type: 'string', minLength: 1, maxLength: 2048 },
            region: { type: 'string', pattern: '^[a-z0-9-]{1,32}$' },
            endpoint: { type: 'string', pattern: '^https?://', maxLength: 1024 },
          },
        },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: false }).compile<ConfigFile>(schema);

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Sections added after the first release are optional in the file: a config
 * written by an older `init` gets the defaults for them. Explicit values win.
 */
function withDefaults(data: unknown): unknown {
  if (!isObject(data)) return data;
  const d = defaultConfigFile() as unknown as Json;
  const out: Json = { ...data };
  for (const section of ['tls', 'network', 'limits', 'throttle', 'storage', 'audit', 'keys']) {
    const given = out[section];
    if (given === undefined) out[section] = d[section];
    else if (isObject(given)) {
      const merged: Json = { ...(d[section] as Json), ...given };
      // A file that defines its own plans defines the whole set.
      if (section === 'throttle' && given.plans !== undefined && given.defaultPlan === undefined) {
        delete merged.defaultPlan;
      }
      out[section] = merged;
    }
  }
  return out;
}

/** Checks the schema cannot express; returns one clear message or undefined. */
function semanticError(c: ConfigFile): string | undefined {
  for (const list of ['allow', 'deny', 'trustedProxies'] as const) {
    for (const [i, rule] of c.network[list].entries()) {
      const r = parseCidr(rule);
      if (typeof r === 'string') return `/network/${list}/${i} ${r}`;
    }
  }
  if (c.limits.headersTimeoutMs > c.limits.requestTimeoutMs) {
    return '/limits/headersTimeoutMs must not exceed /limits/requestTimeoutMs';
  }
  if (c.keys.provider === 'kms' && c.keys.kms === undefined) {
    return "/keys/provider is 'kms' but /keys/kms (keyId, region) is missing";
  }
  const t = c.throttle;
  if (t.defaultPlan === undefined) return '/throttle must name its defaultPlan';
  if (!Object.hasOwn(t.plans, t.defaultPlan)) {
    return `/throttle/defaultPlan '${t.defaultPlan}' is not one of /throttle/plans`;
  }
  for (const [ou, name] of Object.entries(t.assignments)) {
    if (!Object.hasOwn(t.plans, name)) {
      return `/throttle/assignments/${ou} names plan '${name}', which is not in /throttle/plans`;
    }
  }
  return undefined;
}

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
  data = withDefaults(data);
  if (!validate(data)) {
    const e = validate.errors?.[0];
    const where = e?.instancePath || '(root)';
    const extra =
      e?.keyword === 'additionalProperties'
        ? ` '${String((e.params as { additionalProperty?: string }).additionalProperty)}'`
        : '';
    throw new CliError(`config ${file}: ${where} ${e?.message ?? 'is invalid'}${extra}`);
  }
  const semantic = semanticError(data);
  if (semantic) throw new CliError(`config ${file}: ${semantic}`);
  return deepFreeze({ ...data, dir: abs });
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
