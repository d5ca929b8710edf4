// vulnvault.json: validated once at start, frozen, and passed down. Paths in
// it are relative to the directory that holds it. Precedence for the few
// settings that have flags: command-line flag > file > default.

import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Ajv } from 'ajv';
import { parseCidr } from '../core/cidr.js';
import { ConfigError } from './config-error.js';
import { isPkcs11Uri, parsePkcs11Uri } from '../crypto/pkcs11/uri.js';

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
  /** Smallest RSA client key accepted, in bits: 2048 or more (it can only be raised). */
  minClientRsaBits: number;
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
  /** Whole-request deadline of ordinary routes; the rate window of uploads. */
  requestTimeoutMs: number;
  /** Longest a streamed scan upload may take from its headers to its last byte. */
  uploadTimeoutMs: number;
  /** Least an upload must bring in each requestTimeoutMs window (bytes/s). */
  uploadMinBytesPerSecond: number;
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

/** IAM 1.1 / 1.1b: how a caller proves who it is. */
export type AuthMethod = 'certificate' | 'token';

/** Signature algorithms a token issuer may be trusted with: asymmetric only. */
export const TOKEN_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
export type TokenAlgorithm = (typeof TOKEN_ALGORITHMS)[number];

/** Claims that may carry the OAuth2 client id (RFC 9068 `client_id`; Entra v2 `azp`, v1 `appid`). */
export const CLIENT_ID_CLAIMS = ['client_id', 'azp', 'appid', 'sub'] as const;
export type ClientIdClaim = (typeof CLIENT_ID_CLAIMS)[number];

/** One trusted authorization server (OAuth2 client credentials, JWT access tokens). */
export interface TokenIssuerSettings {
  /** Exact `iss` value. */
  issuer: string;
  /** https; http only for a loopback host with allowHttpLoopback (development, tests). */
  jwksUri: string;
  /** Required `aud` (one of). null: the issuer's access tokens carry no `aud` (Cognito); then requiredClaims must pin the token kind. */
  audience: string | string[] | null;
  algorithms?: TokenAlgorithm[];
  clockSkewSeconds?: number;
  /** Default `client_id`. */
  clientIdClaim?: ClientIdClaim;
  /** Default `scope` (space-separated string or array; Entra app roles: `roles`). */
  scopeClaim?: 'scope' | 'scp' | 'roles';
  /** Stripped from scope values before they are read as actions (Cognito: `vulnvault/`). */
  scopePrefix?: string;
  /** Header `typ` must be `at+jwt` (RFC 9068). Default true; false for issuers that cannot set it. */
  requireAtJwtType?: boolean;
  /** Claims that must be present with exactly these string values, e.g. {"token_use":"access"}. */
  requiredClaims?: Record<string, string>;
  /** Allow an http jwksUri on a loopback host. Default false. */
  allowHttpLoopback?: boolean;
}

export interface AuthSettings {
  /** What every route accepts unless routes says otherwise. Default ["certificate"]. */
  methods: AuthMethod[];
  /** "METHOD /path" as in the contract (e.g. "GET /v1/orgs/{org}/findings") → methods. */
  routes: Record<string, AuthMethod[]>;
  tokens: {
    issuers: TokenIssuerSettings[];
    /** How long fetched keys are used before the JWKS is fetched again. */
    jwksCacheSeconds?: number;
    /** Least time between two JWKS fetches caused by an unknown `kid`. */
    jwksCooldownSeconds?: number;
  };
}

/** DP 1.1/1.2: who wraps the per-org data keys. */
export interface KeySettings {
  provider: 'local' | 'kms' | 'pkcs11';
  /** Local keyring (mode 0600); its changes are signed by the key-admin key. */
  keyring: string;
  /** The key-admin public key the keyring's signature is checked against. */
  adminPublicKey: string;
  /** How often the server looks for a changed keyring. */
  reloadIntervalMs: number;
  /** Longest time an unwrapped data key is used before it is unwrapped again. */
  cacheSeconds: number;
  /** The page-cursor secret (mode 0600): HMAC key of the cursors' tags; `keys rotate-cursor`. */
  cursorSecret: string;
  kms?: { keyId: string; region: string; endpoint?: string };
  /**
   * keys.provider 'pkcs11': the KEK is an AES-256 key in a PKCS#11 token,
   * named by an RFC 7512 URI (pkcs11:token=…;object=…?module-path=…).
   */
  pkcs11?: { kek: string };
}

/**
 * LO 1.5: where every audit log's signed heads are sent besides its own
 * checkpoints file, so that a truncation of the data directory is noticed.
 */
export interface AnchorSettings {
  /** Local anchor directory (heads.json, anchor.jsonl); must be outside DIR. Default DIR.audit-anchor. */
  dir?: string;
  /** A syslog collector reached over TLS (RFC 5425). */
  syslog?: SyslogAnchorSettings;
}

export interface SyslogAnchorSettings {
  host: string;
  /** Default 6514 (syslog over TLS). */
  port?: number;
  /** PEM file of the CA(s) the collector's certificate must chain to. */
  ca: string;
  /** Client certificate and key (PEM files) when the collector asks for one. */
  cert?: string;
  key?: string;
  /** Name the collector's certificate must carry, when not host. */
  serverName?: string;
  /** RFC 5424 APP-NAME. Default "vulnvault". */
  appName?: string;
}

export const DEFAULT_SYSLOG_PORT = 6514;

export interface ConfigFile {
  version: 1;
  /** uploadLimitBytes: cap of a streamed scan upload (default 1 GiB). */
  server: { host: string; port: number; bodyLimitBytes: number; uploadLimitBytes?: number };
  tls: TlsSettings;
  pki: {
    caCert: string;
    caKey: string;
    clientsDir: string;
    clientCertTtl: string;
    /** EST enrolment (issue 15); off unless enabled. */
    est?: { enabled?: boolean; store?: string; perMinute?: number };
    /** The server renews its own certificate when a third of its lifetime is left (default: pki.est.enabled). */
    renewServerCert?: boolean;
  };
  network: NetworkSettings;
  limits: LimitSettings;
  throttle: ThrottleSettings;
  storage: { findings: string; policies: string; usage: string };
  auth: AuthSettings;
  audit: {
    authorizationLog: string;
    accessLog: string;
    dataAccessLog: string;
    signingKey: string;
    verifyKey: string;
    checkpointEvery: number;
    checkpointIntervalSeconds: number;
    anchor: AnchorSettings;
  };
  keys: KeySettings;
  /** Working the findings (issue 16). */
  triage: TriageSettings;
}

export interface TriageSettings {
  /** Longest risk acceptance, in days ahead (default 365). */
  maxRiskAcceptanceDays: number;
  /** How often the server records expired risk acceptances in the history (default 300 s). */
  sweepIntervalSeconds: number;
  /** SLA days per severity for orgs without their own (`vulnvault sla set`); null = no SLA. */
  sla: Record<'critical' | 'high' | 'medium' | 'low' | 'info', number | null>;
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
      minClientRsaBits: 2048,
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
      uploadTimeoutMs: 3_600_000,
      uploadMinBytesPerSecond: 16_384,
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
    auth: { methods: ['certificate'], routes: {}, tokens: { issuers: [] } },
    audit: {
      authorizationLog: 'logs/authz.log',
      accessLog: 'logs/access.log',
      dataAccessLog: 'logs/data-access.log',
      signingKey: 'keys/audit-signing.key',
      verifyKey: 'keys/audit-signing.pub',
      checkpointEvery: 1000,
      checkpointIntervalSeconds: 60,
      anchor: {},
    },
    keys: {
      provider: 'local',
      keyring: 'keys/keyring.json',
      adminPublicKey: 'keys/key-admin.pub',
      reloadIntervalMs: 1000,
      cacheSeconds: 300,
      cursorSecret: 'keys/cursor-secret.json',
    },
    triage: {
      maxRiskAcceptanceDays: 365,
      sweepIntervalSeconds: 300,
      sla: { critical: 7, high: 30, medium: 90, low: 180, info: null },
    },
  };
}

const path = { type: 'string', minLength: 1, maxLength: 1024 } as const;
const pkcs11Uri = { type: 'string', pattern: '^pkcs11:', minLength: 8, maxLength: 2048 } as const;
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
const methods = {
  type: 'array',
  minItems: 1,
  maxItems: 2,
  uniqueItems: true,
  items: { enum: ['certificate', 'token'] },
} as const;
const issuer = {
  type: 'object',
  additionalProperties: false,
  required: ['issuer', 'jwksUri', 'audience'],
  properties: {
    issuer: { type: 'string', minLength: 1, maxLength: 2048 },
    jwksUri: { type: 'string', minLength: 1, maxLength: 2048 },
    audience: {
      anyOf: [
        { type: 'string', minLength: 1, maxLength: 2048 },
        {
          type: 'array',
          minItems: 1,
          maxItems: 32,
          items: { type: 'string', minLength: 1, maxLength: 2048 },
        },
        { type: 'null' },
      ],
    },
    // Checked in semanticError, to name what is wrong with e.g. HS256.
    algorithms: { type: 'array', minItems: 1, maxItems: 16, items: { type: 'string' } },
    clockSkewSeconds: { type: 'integer', minimum: 0, maximum: 300 },
    clientIdClaim: { enum: [...CLIENT_ID_CLAIMS] },
    scopeClaim: { enum: ['scope', 'scp', 'roles'] },
    scopePrefix: { type: 'string', maxLength: 256 },
    requireAtJwtType: { type: 'boolean' },
    requiredClaims: {
      type: 'object',
      maxProperties: 16,
      propertyNames: { type: 'string', minLength: 1, maxLength: 64 },
      additionalProperties: { type: 'string', maxLength: 2048 },
    },
    allowHttpLoopback: { type: 'boolean' },
  },
} as const;
const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'server', 'tls', 'pki', 'storage', 'audit'],
  properties: {
    version: { const: 1 },
    triage: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxRiskAcceptanceDays: { type: 'integer', minimum: 1, maximum: 3650 },
        sweepIntervalSeconds: { type: 'integer', minimum: 10, maximum: 86_400 },
        sla: {
          type: 'object',
          additionalProperties: false,
          required: ['critical', 'high', 'medium', 'low', 'info'],
          properties: Object.fromEntries(
            ['critical', 'high', 'medium', 'low', 'info'].map((k) => [
              k,
              { type: ['integer', 'null'], minimum: 1, maximum: 3650 },
            ]),
          ),
        },
      },
    },
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
        // Upwards only: below 2048 the config is refused at start.
        minClientRsaBits: { type: 'integer', minimum: 2048, maximum: 16384 },
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
        uploadTimeoutMs: ms(1000, 86_400_000),
        uploadMinBytesPerSecond: ms(0, 1_073_741_824),
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
        est: {
          type: 'object',
          additionalProperties: false,
          properties: {
            enabled: { type: 'boolean' },
            store: path,
            perMinute: { type: 'integer', minimum: 1, maximum: 10000 },
          },
        },
        renewServerCert: { type: 'boolean' },
      },
    },
    storage: {
      type: 'object',
      additionalProperties: false,
      required: ['findings', 'policies'],
      properties: { findings: path, policies: path, usage: path },
    },
    auth: {
      type: 'object',
      additionalProperties: false,
      required: ['methods'],
      properties: {
        methods,
        routes: {
          type: 'object',
          propertyNames: { type: 'string', pattern: '^(GET|POST|PUT|PATCH|DELETE) /[^ ]{0,256}$' },
          additionalProperties: methods,
        },
        tokens: {
          type: 'object',
          additionalProperties: false,
          required: ['issuers'],
          properties: {
            issuers: { type: 'array', maxItems: 32, items: issuer },
            jwksCacheSeconds: { type: 'integer', minimum: 10, maximum: 86_400 },
            jwksCooldownSeconds: { type: 'integer', minimum: 0, maximum: 3_600 },
          },
        },
      },
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
        anchor: {
          type: 'object',
          additionalProperties: false,
          properties: {
            dir: path,
            syslog: {
              type: 'object',
              additionalProperties: false,
              required: ['host', 'ca'],
              properties: {
                host: { type: 'string', minLength: 1, maxLength: 255 },
                port: { type: 'integer', minimum: 1, maximum: 65535 },
                ca: path,
                cert: path,
                key: path,
                serverName: { type: 'string', minLength: 1, maxLength: 255 },
                appName: { type: 'string', pattern: '^[\\x21-\\x7e]{1,48}$' },
              },
            },
          },
        },
      },
    },
    keys: {
      type: 'object',
      additionalProperties: false,
      properties: {
        provider: { enum: ['local', 'kms', 'pkcs11'] },
        keyring: path,
        adminPublicKey: path,
        reloadIntervalMs: ms(100, 3_600_000),
        cacheSeconds: { type: 'integer', minimum: 1, maximum: 86400 },
        cursorSecret: path,
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
        pkcs11: {
          type: 'object',
          additionalProperties: false,
          required: ['kek'],
          properties: { kek: pkcs11Uri },
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
  for (const section of [
    'pki',
    'tls',
    'network',
    'limits',
    'throttle',
    'storage',
    'auth',
    'audit',
    'keys',
    'triage',
  ]) {
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
  const syslog = c.audit.anchor.syslog;
  if (syslog && (syslog.cert === undefined) !== (syslog.key === undefined)) {
    return '/audit/anchor/syslog needs both cert and key, or neither';
  }
  if (c.keys.provider === 'kms' && c.keys.kms === undefined) {
    return "/keys/provider is 'kms' but /keys/kms (keyId, region) is missing";
  }
  if (c.keys.provider === 'pkcs11' && c.keys.pkcs11 === undefined) {
    return "/keys/provider is 'pkcs11' but /keys/pkcs11 (kek: a pkcs11: URI) is missing";
  }
  for (const [where, value] of [
    ['/keys/pkcs11/kek', c.keys.pkcs11?.kek],
    ['/pki/caKey', c.pki.caKey],
    ['/audit/signingKey', c.audit.signingKey],
  ] as const) {
    if (value === undefined || !isPkcs11Uri(value)) continue;
    try {
      parsePkcs11Uri(value);
    } catch (err) {
      return `${where}: ${(err as Error).message}`;
    }
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
  return authError(c.auth);
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function authError(a: AuthSettings): string | undefined {
  const usesTokens =
    a.methods.includes('token') || Object.values(a.routes).some((m) => m.includes('token'));
  if (usesTokens && a.tokens.issuers.length === 0) {
    return '/auth/tokens/issuers must name at least one issuer when a method is "token"';
  }
  const seen = new Set<string>();
  for (const [i, t] of a.tokens.issuers.entries()) {
    const at = `/auth/tokens/issuers/${i}`;
    if (seen.has(t.issuer)) return `${at}/issuer '${t.issuer}' is listed twice`;
    seen.add(t.issuer);
    let url: URL;
    try {
      url = new URL(t.jwksUri);
    } catch {
      return `${at}/jwksUri is not a URL`;
    }
    if (url.protocol === 'http:') {
      if (!LOOPBACK_HOSTS.has(url.hostname) && !url.hostname.startsWith('127.')) {
        return `${at}/jwksUri must be https (http only for a loopback host)`;
      }
      if (t.allowHttpLoopback !== true) {
        return `${at}/jwksUri is http: set allowHttpLoopback: true to allow it (development only)`;
      }
    } else if (url.protocol !== 'https:') {
      return `${at}/jwksUri must be https`;
    }
    if (url.username !== '' || url.password !== '') {
      return `${at}/jwksUri must not carry credentials`;
    }
    for (const alg of t.algorithms ?? []) {
      if (!(TOKEN_ALGORITHMS as readonly string[]).includes(alg)) {
        return `${at}/algorithms '${alg}' is not allowed (${
          /^HS|^none$/i.test(alg) ? "HMAC and 'none' are never accepted; " : ''
        }allowed: ${TOKEN_ALGORITHMS.join(', ')})`;
      }
    }
    if (t.audience === null && Object.keys(t.requiredClaims ?? {}).length === 0) {
      return `${at}/audience is null: then requiredClaims must pin the token kind (e.g. {"token_use":"access"})`;
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

/** Reads and validates DIR/vulnvault.json; throws ConfigError with one clear line. */
export function loadConfig(dir: string): Config {
  const abs = resolve(dir);
  const file = join(abs, CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ConfigError(`no config at ${file}: run 'vulnvault init --dir ${dir}' first`);
    }
    throw new ConfigError(`cannot read config ${file}: ${code ?? 'unknown error'}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config ${file} is not valid JSON: ${(err as Error).message}`);
  }
  data = withDefaults(data);
  if (!validate(data)) {
    const e = validate.errors?.[0];
    const where = e?.instancePath || '(root)';
    const extra =
      e?.keyword === 'additionalProperties'
        ? ` '${String((e.params as { additionalProperty?: string }).additionalProperty)}'`
        : '';
    throw new ConfigError(`config ${file}: ${where} ${e?.message ?? 'is invalid'}${extra}`);
  }
  const semantic = semanticError(data);
  if (semantic) throw new ConfigError(`config ${file}: ${semantic}`);
  const config = { ...data, dir: abs };
  const anchor = anchorDirOf(config);
  if (isInside(anchor, abs)) {
    throw new ConfigError(
      `config ${file}: /audit/anchor/dir ${anchor} is inside the data directory; it must be outside it (another directory or mount), or a cut of the logs can take their anchor with them`,
    );
  }
  return deepFreeze(config);
}

function isInside(path: string, dir: string): boolean {
  const r = relative(dir, path);
  return r === '' || (r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r));
}

/** The local audit anchor directory: audit.anchor.dir, else DIR.audit-anchor beside DIR. */
export function anchorDirOf(config: Pick<Config, 'dir' | 'audit'>): string {
  const d = config.audit.anchor.dir;
  return d === undefined ? `${config.dir}.audit-anchor` : resolvePath(config, d);
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

/** pki.est with its defaults: off, the store beside the CA, 10 enrolments a minute. */
export function estSettings(config: Config): {
  enabled: boolean;
  store: string;
  perMinute: number;
} {
  const e = config.pki.est ?? {};
  return {
    enabled: e.enabled ?? false,
    store: resolvePath(config, e.store ?? 'pki/enrol.db'),
    perMinute: e.perMinute ?? 10,
  };
}
