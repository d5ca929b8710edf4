// Assembles a running vulnvault from a validated config: reads TLS material
// (and keeps watching it), opens the stores (findings read-write for ingest,
// read-only for queries; policies read-only; usage counts), the audit and
// access logs, compiles the IP policy and usage plans, and builds the edge.
// Findings are sealed with per-org data keys wrapped by the configured key
// provider (DP 1.1); rows from before encryption are sealed before serving.

import { existsSync, readFileSync } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import {
  openFindingsDb,
  openFindingsDbReadOnly,
  openIdempotencyDb,
  openPolicyDbReadOnly,
  type Db,
} from './adapters/sqlite/database.js';
import { createSqliteDataKeyStore } from './adapters/sqlite/data-key-store.js';
import { createSqliteFindingsReader } from './adapters/sqlite/findings-reader.js';
import {
  createSqliteFindingsWriter,
  type SqliteFindingsWriter,
} from './adapters/sqlite/findings-writer.js';
import { createSqliteIdempotencyStore } from './adapters/sqlite/idempotency-store.js';
import { createSqlitePolicyReader } from './adapters/sqlite/policy-store.js';
import { createSqliteUsageCounter } from './adapters/sqlite/usage-store.js';
import { sealPlaintextFindings } from './adapters/sqlite/sealing.js';
import { WriteLock } from './adapters/sqlite/write-lock.js';
import { createSqliteTriageStore } from './adapters/sqlite/triage-store.js';
import { openAuditTrailFromConfig } from './audit/audit-trail-from-config.js';
import {
  estSettings,
  resolvePath,
  uploadLimitOf,
  type AuthMethod,
  type AuthSettings,
  type Config,
} from './config/config.js';
import type { CursorKeys } from './core/cursor-keys.js';
import type { KeyProvider } from './core/keys.js';
import type { UsageCounter } from './core/ports.js';
import { createCursorSecret, createFileCursorKeys } from './crypto/cursor-secret.js';
import { createDataKeys } from './crypto/data-keys.js';
import { createFindingCiphers, type FindingCiphers } from './crypto/finding-ciphers.js';
import { openKeyProvider } from './crypto/key-provider-from-config.js';
import { createAccessLog } from './edge/access-log.js';
import { createIpPolicy, type IpPolicy } from './edge/ip-policy.js';
import { buildEdge, type EdgeAuth } from './edge/server.js';
import { createTokenVerifier } from './edge/token-verifier.js';
import { createThrottle } from './edge/throttle.js';
import { loadTls, type TlsFiles } from './edge/tls-files.js';
import { startTlsReloader, type TlsReloader } from './edge/tls-reloader.js';
import { createTrust } from './edge/trust.js';
import { parseDuration } from './pki/issue.js';
import { parseCrls, revokedSerials } from './pki/crl.js';
import { withCa } from './pki/ca-source.js';
import type { Issuer } from './pki/issue.js';
import { isPkcs11Uri } from './crypto/pkcs11/uri.js';
import { openEnrolStore } from './adapters/sqlite/enrol-store.js';
import { auditTokenEvents, type EnrolStore } from './pki/enrol-store.js';
import { createEstService } from './pki/est.js';
import { startServerRenewal } from './pki/renewal.js';
import { StartupError } from './startup-error.js';

export { StartupError } from './startup-error.js';

/** auth.* of the config → what the edge needs (IAM 1.1 / 1.1b). */
export function edgeAuthOf(a: AuthSettings): EdgeAuth {
  const m = (list: readonly AuthMethod[]) => ({
    certificate: list.includes('certificate'),
    token: list.includes('token'),
  });
  const routes = Object.fromEntries(Object.entries(a.routes).map(([k, v]) => [k, m(v)]));
  const anyToken = a.methods.includes('token') || Object.values(routes).some((r) => r.token);
  return {
    defaults: m(a.methods),
    routes,
    token: anyToken
      ? createTokenVerifier(a.tokens.issuers, {
          jwksCacheSeconds: a.tokens.jwksCacheSeconds,
          jwksCooldownSeconds: a.tokens.jwksCooldownSeconds,
        })
      : undefined,
  };
}

export interface Vault {
  app: FastifyInstance;
  /** Re-reads the TLS files now if they changed (SIGHUP); they are also polled. */
  reloadTls(): Promise<void>;
  close(): Promise<void>;
}

/**
 * How the stores seal findings, in two steps: the source is opened before
 * any file is written (so a bad keyring stops the start first), and gives
 * the ciphers once the findings databases are open.
 */
export interface CipherSource {
  ciphers(findings: { writerDb: Db; readerDb: Db; lock: WriteLock }): Promise<FindingCiphers>;
  close(): void;
}

/**
 * The page-cursor secret (keys.cursorSecret). A directory from before keyed
 * cursors gets one at its first start; a file that does not load (readable
 * by others, damaged) stops the start.
 */
function openCursorKeys(config: Config, logger: Logger): CursorKeys {
  const file = resolvePath(config, config.keys.cursorSecret);
  try {
    if (!existsSync(file)) {
      createCursorSecret(file);
      logger.warn({ file }, 'created a page-cursor secret');
    }
    return createFileCursorKeys(file, {
      reloadIntervalMs: config.keys.reloadIntervalMs,
      onReload: () => logger.info({ file }, 'page-cursor secret reloaded'),
      onReloadError: (err) =>
        logger.error({ err: err.message }, 'page-cursor secret not reloaded; keeping the previous'),
    });
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
}

/** The server `vulnvault serve` runs. */
export function openVault(
  config: Config,
  logger: Logger = pino({ level: 'info' }),
): Promise<Vault> {
  return assembleVault(config, logger, () => keyProviderCiphers(config, logger));
}

/**
 * Per-org data keys wrapped by the configured key provider (DP 1.1). Refuses
 * to start when the keyring is missing, readable by others or not signed by
 * the key-admin key; seals rows stored before encryption before serving.
 */
async function keyProviderCiphers(config: Config, logger: Logger): Promise<CipherSource> {
  const keys: KeyProvider = await openKeyProvider(config, logger);
  return {
    async ciphers({ writerDb, readerDb, lock }) {
      const store = createSqliteDataKeyStore(writerDb, lock, readerDb);
      const dataKeys = createDataKeys(keys, store, {
        maxAgeMs: config.keys.cacheSeconds * 1000,
      });
      const ciphers = createFindingCiphers(dataKeys);
      const sealed = await sealPlaintextFindings(writerDb, ciphers).catch((err: unknown) => {
        throw new StartupError(
          `cannot encrypt the findings stored before encryption: ${(err as Error).message}`,
        );
      });
      if (sealed > 0) logger.warn({ sealed }, 'encrypted findings stored before encryption');
      return ciphers;
    },
    close: () => keys.close(),
  };
}

/**
 * openVault with the sealing given by the caller: openVault passes the key
 * provider's ciphers; the crypto benchmark (bench/crypto-server.ts) passes
 * its own unencrypted baseline, which exists only in bench/.
 */
export async function assembleVault(
  config: Config,
  logger: Logger,
  openCiphers: () => Promise<CipherSource>,
): Promise<Vault> {
  const files: TlsFiles = {
    cert: resolvePath(config, config.tls.cert),
    key: resolvePath(config, config.tls.key),
    clientCa: resolvePath(config, config.tls.clientCa),
    crl: resolvePath(config, config.tls.crl),
  };
  let tls;
  try {
    tls = loadTls(config.tls.policy, files);
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  if (!tls.hasCrl) {
    logger.warn({ crl: files.crl }, 'no CRL file: no certificate is revoked until one is written');
  }
  let hadCrl = tls.hasCrl;
  const maxLifetimeMs = parseDuration(config.tls.maxClientCertLifetime) as number;
  const trust = createTrust(
    tls.trustedCas,
    tls.revoked,
    maxLifetimeMs,
    config.tls.maxClientCertLifetime,
    config.tls.minClientRsaBits,
  );
  let ipPolicy: IpPolicy;
  try {
    ipPolicy = createIpPolicy(config.network);
  } catch (err) {
    throw new StartupError(`config: ${(err as Error).message}`);
  }

  const cursors = openCursorKeys(config, logger);
  const cipherSource = await openCiphers();

  const dbs: Db[] = [];
  let writer: SqliteFindingsWriter | undefined;
  let trail;
  try {
    // Refuses a log shorter than its last recorded head (LO 1.5).
    trail = openAuditTrailFromConfig(config, logger);
  } catch (err) {
    cipherSource.close();
    throw err;
  }
  const { audit } = trail;
  const accessLog = createAccessLog(trail.access);
  let usage: UsageCounter | undefined;
  let reloader: TlsReloader | undefined;
  let enrolStore: EnrolStore | undefined;
  let renewal: { stop(): void } | undefined;
  try {
    const findingsFile = resolvePath(config, config.storage.findings);
    const writerDb = openFindingsDb(findingsFile);
    dbs.push(writerDb);
    const readerDb = openFindingsDbReadOnly(findingsFile);
    dbs.push(readerDb);
    const lock = new WriteLock();
    const ciphers = await cipherSource.ciphers({ writerDb, readerDb, lock });
    writer = createSqliteFindingsWriter(writerDb, {
      ciphers,
      importWorkerFile: findingsFile,
      lock,
      slaDefault: config.triage.sla,
    });
    const triage = createSqliteTriageStore(writerDb, { ciphers, lock });
    const idempotencyDb = openIdempotencyDb(join(dirname(findingsFile), 'idempotency.db'));
    dbs.push(idempotencyDb);
    let policyDb: Db;
    try {
      policyDb = openPolicyDbReadOnly(resolvePath(config, config.storage.policies));
    } catch (err) {
      throw new StartupError(
        `cannot open policy store ${config.storage.policies}: ${(err as Error).message}`,
      );
    }
    dbs.push(policyDb);
    try {
      usage = createSqliteUsageCounter(resolvePath(config, config.storage.usage), (err) =>
        logger.error({ err: (err as Error).message }, 'usage counts not persisted; will retry'),
      );
    } catch (err) {
      throw new StartupError(
        `cannot open usage store ${config.storage.usage}: ${(err as Error).message}`,
      );
    }

    const est = estSettings(config);
    // The CA key: a file, or a key in a PKCS#11 token (ca-source.ts).
    const caCertFile = resolvePath(config, config.pki.caCert);
    const caKeyRef = isPkcs11Uri(config.pki.caKey)
      ? config.pki.caKey
      : resolvePath(config, config.pki.caKey);
    const withCaHere = <T>(fn: (ca: Issuer) => Promise<T>) => withCa(caCertFile, caKeyRef, fn);
    if (est.enabled) {
      try {
        enrolStore = openEnrolStore(est.store);
      } catch (err) {
        throw new StartupError(
          `cannot open the enrolment store ${est.store}: ${(err as Error).message}`,
        );
      }
    }
    const estOptions =
      enrolStore === undefined
        ? undefined
        : {
            perMinute: est.perMinute,
            service: createEstService({
              // Opened at each issuance: a rotated CA or a key made 0644 is noticed.
              withCa: withCaHere,
              caCertPem: () => readFileSync(caCertFile, 'utf8'),
              store: enrolStore,
              ttlMs: parseDuration(config.pki.clientCertTtl) as number,
              minRsaBits: config.tls.minClientRsaBits,
              // The CRL file as it is now, not the reloader's last snapshot.
              revoked: () =>
                existsSync(files.crl)
                  ? revokedSerials(parseCrls(readFileSync(files.crl, 'utf8')))
                  : new Set<string>(),
              organisation: 'vulnvault-demo',
            }),
          };
    const app = await buildEdge(
      {
        tls: tls.options,
        trust,
        bodyLimit: config.server.bodyLimitBytes,
        uploadLimit: uploadLimitOf(config),
        limits: config.limits,
        ipPolicy,
        throttle: createThrottle({ ...config.throttle, usage }),
        accessLog,
        auth: edgeAuthOf(config.auth),
        ...(estOptions ? { est: estOptions } : {}),
        maxRiskAcceptanceDays: config.triage.maxRiskAcceptanceDays,
      },
      {
        policies: createSqlitePolicyReader(policyDb),
        reader: createSqliteFindingsReader(readerDb, ciphers),
        writer,
        triage,
        idempotency: createSqliteIdempotencyStore(idempotencyDb),
        audit,
        cursors,
        logger,
      },
    ).catch((err: unknown) => {
      throw new StartupError(`cannot start the edge: ${(err as Error).message}`);
    });
    reloader = await startTlsReloader({
      files: [files.cert, files.key, files.clientCa, files.crl],
      intervalMs: config.tls.reloadIntervalMs,
      reload() {
        const next = loadTls(config.tls.policy, files);
        // Fail closed: a CRL that disappears must not silently un-revoke.
        if (hadCrl && !next.hasCrl) {
          throw new Error(`CRL ${files.crl} disappeared; keeping the previous one`);
        }
        hadCrl = next.hasCrl;
        (app.server as unknown as HttpsServer).setSecureContext(next.options);
        trust.replace(next.trustedCas, next.revoked);
      },
      onReloaded: () =>
        logger.info({ generation: trust.current().generation }, 'TLS material reloaded'),
      onError: (err) =>
        logger.error({ err: err.message }, 'TLS material not reloaded; keeping the previous'),
    });
    const stopReloader = reloader;
    if (
      (config.pki.renewServerCert ?? est.enabled) &&
      (isPkcs11Uri(caKeyRef) || existsSync(caKeyRef))
    ) {
      renewal = startServerRenewal({
        certFile: files.cert,
        keyFile: files.key,
        withCa: withCaHere,
        reload: () => void stopReloader.check(),
        log: {
          info: (f, m) => logger.info(f, m),
          error: (f, m) => logger.error(f, m),
        },
      });
    }
    const stopRenewal = renewal;
    // Enrolment tokens are made and revoked by the CLI; the server, which owns
    // the authorization log, records each (who it is for, expiry, id; never
    // the token) at start and within a reload interval after.
    let tokenAudit: NodeJS.Timeout | undefined;
    if (enrolStore) {
      const store = enrolStore;
      const logTokens = () => {
        try {
          auditTokenEvents(store, ({ row, event }) =>
            audit.authz({
              time: new Date().toISOString(),
              requestId: null,
              sourceIp: '',
              principal: {
                id: row.cn,
                type: 'ou',
                name: row.ou,
                ou: row.ou,
                subject: null,
                issuer: null,
                serial: null,
                fingerprint256: null,
              },
              action: 'pki:enroll-token',
              org: null,
              decision: 'allow',
              reason:
                event === 'created'
                  ? `enrolment token ${row.id} created at ${row.createdAt} for OU=${row.ou}, CN=${row.cn}, expires ${row.expiresAt}`
                  : `enrolment token ${row.id} revoked at ${row.revokedAt ?? ''}`,
            }),
          );
        } catch (err) {
          logger.error(
            { err: (err as Error).message },
            'enrolment token events not logged; retrying',
          );
        }
      };
      logTokens();
      tokenAudit = setInterval(logTokens, Math.max(1000, config.tls.reloadIntervalMs));
      tokenAudit.unref();
    }
    // Expired risk acceptances are already active at read; the sweep only
    // records their expiry in the history (issue 16 item 3).
    const sweep = () => {
      triage.sweepExpired(new Date().toISOString()).then(
        (n) => {
          if (n > 0) logger.info({ expired: n }, 'risk acceptances expired');
        },
        (err: unknown) =>
          logger.error(
            { err: (err as Error).message },
            'expired risk acceptances not recorded; will retry',
          ),
      );
    };
    sweep();
    const sweeper = setInterval(sweep, config.triage.sweepIntervalSeconds * 1000);
    sweeper.unref();
    const enrol = enrolStore;
    const usageCounter = usage;
    return {
      app,
      reloadTls: () => stopReloader.check(),
      async close() {
        clearInterval(sweeper);
        clearInterval(tokenAudit);
        stopRenewal?.stop();
        stopReloader.stop();
        await app.close();
        await writer?.close();
        usageCounter.close();
        enrol?.close();
        await trail.close();
        for (const db of dbs) db.close();
        cipherSource.close();
      },
    };
  } catch (err) {
    cipherSource.close();
    renewal?.stop();
    enrolStore?.close();
    reloader?.stop();
    usage?.close();
    await writer?.close();
    for (const db of dbs) db.close();
    await trail.close();
    throw err;
  }
}
