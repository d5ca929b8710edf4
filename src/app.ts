// Assembles a running vulnvault from a validated config: reads TLS material,
// opens the stores (findings read-write for ingest, read-only for queries;
// policies read-only), the audit log, and builds the edge.

import { existsSync, readFileSync } from 'node:fs';
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
import { createSqliteFindingsReader } from './adapters/sqlite/findings-reader.js';
import {
  createSqliteFindingsWriter,
  type SqliteFindingsWriter,
} from './adapters/sqlite/findings-writer.js';
import { createSqliteIdempotencyStore } from './adapters/sqlite/idempotency-store.js';
import { createSqlitePolicyReader } from './adapters/sqlite/policy-store.js';
import { createFileAuditSink } from './audit/audit-file.js';
import { createSigningKey, loadSigningKey } from './audit/signing-key.js';
import { resolvePath, uploadLimitOf, type Config } from './config/config.js';
import { CliError } from './core/cli-error.js';
import { buildEdge } from './edge/server.js';
import { tlsOptions } from './edge/tls.js';
import { loadCaBundle } from './pki/identity.js';

export interface Vault {
  app: FastifyInstance;
  close(): Promise<void>;
}

function readMaterial(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new CliError(`cannot read ${what} ${file}: ${code}`);
  }
}

export async function openVault(
  config: Config,
  logger: Logger = pino({ level: 'info' }),
): Promise<Vault> {
  const cert = readMaterial(resolvePath(config, config.tls.cert), 'server certificate');
  const key = readMaterial(resolvePath(config, config.tls.key), 'server key');
  const clientCa = readMaterial(resolvePath(config, config.tls.clientCa), 'client CA bundle');
  const trustedCas = loadCaBundle(clientCa);
  if (trustedCas.length === 0) {
    throw new CliError(`client CA bundle ${config.tls.clientCa} contains no certificate`);
  }

  const dbs: Db[] = [];
  let writer: SqliteFindingsWriter | undefined;
  const signingKeyFile = resolvePath(config, config.audit.signingKey);
  const verifyKeyFile = resolvePath(config, config.audit.verifyKey);
  if (!existsSync(signingKeyFile) && !existsSync(verifyKeyFile)) {
    // A directory from before the audit chain: give it a key once.
    createSigningKey(signingKeyFile, verifyKeyFile);
    logger.warn({ key: verifyKeyFile }, 'created an audit signing key');
  }
  const audit = createFileAuditSink({
    authorizationLog: resolvePath(config, config.audit.authorizationLog),
    dataAccessLog: resolvePath(config, config.audit.dataAccessLog),
    signingKey: loadSigningKey(signingKeyFile),
    checkpointEvery: config.audit.checkpointEvery,
    checkpointIntervalMs: config.audit.checkpointIntervalSeconds * 1000,
  });
  try {
    const findingsFile = resolvePath(config, config.storage.findings);
    const writerDb = openFindingsDb(findingsFile);
    dbs.push(writerDb);
    writer = createSqliteFindingsWriter(writerDb, { importWorkerFile: findingsFile });
    const readerDb = openFindingsDbReadOnly(findingsFile);
    dbs.push(readerDb);
    const idempotencyDb = openIdempotencyDb(join(dirname(findingsFile), 'idempotency.db'));
    dbs.push(idempotencyDb);
    let policyDb: Db;
    try {
      policyDb = openPolicyDbReadOnly(resolvePath(config, config.storage.policies));
    } catch (err) {
      throw new CliError(
        `cannot open policy store ${config.storage.policies}: ${(err as Error).message}`,
      );
    }
    dbs.push(policyDb);

    let tls;
    try {
      tls = tlsOptions(config.tls.policy, { cert, key, clientCa });
    } catch (err) {
      throw new CliError(`invalid TLS material: ${(err as Error).message}`);
    }
    const app = await buildEdge(
      {
        tls,
        trustedCas,
        bodyLimit: config.server.bodyLimitBytes,
        uploadLimit: uploadLimitOf(config),
      },
      {
        policies: createSqlitePolicyReader(policyDb),
        reader: createSqliteFindingsReader(readerDb),
        writer,
        idempotency: createSqliteIdempotencyStore(idempotencyDb),
        audit,
        logger,
      },
    ).catch((err: unknown) => {
      throw new CliError(`cannot start the edge: ${(err as Error).message}`);
    });
    return {
      app,
      async close() {
        await app.close();
        await writer?.close();
        await audit.close();
        for (const db of dbs) db.close();
      },
    };
  } catch (err) {
    await writer?.close();
    for (const db of dbs) db.close();
    await audit.close();
    throw err;
  }
}
