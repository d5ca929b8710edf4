// Lambda entry for the read operations (the contract's findings:read routes,
// and the public health probe) on both APIs. It is given a findings reader
// only (IAM 1.3); what it checks and answers is the HTTP core's, as on the
// local edge (proxy.ts).

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { createDynamoFindingsReader } from '../adapters/dynamodb/findings-reader.js';
import { createDynamoPolicyReader } from '../adapters/dynamodb/policy-store.js';
import type { CursorKeys } from '../core/cursor-keys.js';
import type { AuditSink } from '../core/ports.js';
import { createHttpCore } from '../http/core.js';
import { publicOperations } from '../http/operations/public.js';
import { readOperations } from '../http/operations/read.js';
import { createStdoutAudit, logError, type LineWriter } from './audit-stdout.js';
import { readCursorKeys, readEnv } from './env.js';
import type { ProxyEvent, ProxyResult } from './events.js';
import { proxyHandler } from './proxy.js';

export interface QueryLambdaDeps {
  doc: DynamoDBDocumentClient;
  findingsTable: string;
  policyTable: string;
  /** The Feeds table the reader joins KEV and EPSS from (none: no feed imported). */
  feedsTable?: string | undefined;
  audit: AuditSink;
  /** Keys of the page cursors' HMAC tags (from the function's configuration). */
  cursors: CursorKeys;
  log: LineWriter;
}

export function createQueryHandler(deps: QueryLambdaDeps) {
  return proxyHandler(
    createHttpCore({
      operations: {
        ...publicOperations(),
        ...readOperations({
          policies: createDynamoPolicyReader(deps.doc, deps.policyTable),
          reader: createDynamoFindingsReader(deps.doc, deps.findingsTable, {
            feedsTable: deps.feedsTable,
          }),
          audit: deps.audit,
          cursors: deps.cursors,
        }),
      },
      report: (requestId, err) => logError(deps.log, requestId, err),
    }),
  );
}

let live: ReturnType<typeof createQueryHandler> | undefined;

export async function handler(event: ProxyEvent): Promise<ProxyResult> {
  if (!live) {
    // Fails closed: without its table names or its cursor secret (missing or
    // shorter than 32 bytes) the function answers no request; the error
    // names the variable.
    const env = readEnv(['findingsTable', 'policyTable', 'feedsTable']);
    const cursors = readCursorKeys();
    const log: LineWriter = (line) => void process.stdout.write(`${line}\n`);
    live = createQueryHandler({
      doc: createDocumentClient(),
      findingsTable: env.findingsTable,
      policyTable: env.policyTable,
      feedsTable: env.feedsTable,
      audit: createStdoutAudit(log),
      cursors,
      log,
    });
  }
  return live(event);
}
