// Lambda entry for the write operations (the contract's findings:write
// routes: POST /vuln, POST /v1/orgs/{org}/scans) on both APIs. It is given a
// findings writer and idempotency records, no reader (IAM 1.3); what it
// checks and answers is the HTTP core's, as on the local edge (proxy.ts).

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { createDynamoFindingsWriter } from '../adapters/dynamodb/findings-writer.js';
import { createDynamoIdempotencyStore } from '../adapters/dynamodb/idempotency-store.js';
import { createDynamoPolicyReader } from '../adapters/dynamodb/policy-store.js';
import type { AuditSink } from '../core/ports.js';
import { createHttpCore } from '../http/core.js';
import { writeOperations } from '../http/operations/write.js';
import { createStdoutAudit, logError, type LineWriter } from './audit-stdout.js';
import { readEnv } from './env.js';
import type { ProxyEvent, ProxyResult } from './events.js';
import { proxyHandler } from './proxy.js';

/** API Gateway refuses payloads over 10 MB; nothing larger ever arrives here. */
export const LAMBDA_UPLOAD_LIMIT = 10 * 1024 * 1024;

export interface IngestLambdaDeps {
  doc: DynamoDBDocumentClient;
  findingsTable: string;
  policyTable: string;
  idempotencyTable: string;
  audit: AuditSink;
  log: LineWriter;
}

export function createIngestHandler(deps: IngestLambdaDeps) {
  return proxyHandler(
    createHttpCore({
      operations: writeOperations({
        policies: createDynamoPolicyReader(deps.doc, deps.policyTable),
        writer: createDynamoFindingsWriter(deps.doc, deps.findingsTable),
        idempotency: createDynamoIdempotencyStore(deps.doc, deps.idempotencyTable),
        audit: deps.audit,
        uploadLimit: LAMBDA_UPLOAD_LIMIT,
      }),
      report: (requestId, err) => logError(deps.log, requestId, err),
    }),
  );
}

let live: ReturnType<typeof createIngestHandler> | undefined;

export async function handler(event: ProxyEvent): Promise<ProxyResult> {
  if (!live) {
    const env = readEnv(['findingsTable', 'policyTable', 'idempotencyTable']);
    const log: LineWriter = (line) => void process.stdout.write(`${line}\n`);
    live = createIngestHandler({
      doc: createDocumentClient(),
      findingsTable: env.findingsTable,
      policyTable: env.policyTable,
      idempotencyTable: env.idempotencyTable,
      audit: createStdoutAudit(log),
      log,
    });
  }
  return live(event);
}
