// Lambda entry for the triage operations (the contract's findings:triage
// routes: PUT /v1/orgs/{org}/findings/{id}/analysis, POST
// /v1/orgs/{org}/findings/analysis) on both APIs. It is given the triage
// store, which changes analysis only, and a findings reader to answer with
// the changed finding; no writer, no idempotency records (IAM 1.3). What it
// checks and answers is the HTTP core's, as on the local edge (proxy.ts).

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { createDynamoFindingsReader } from '../adapters/dynamodb/findings-reader.js';
import { createDynamoPolicyReader } from '../adapters/dynamodb/policy-store.js';
import { createDynamoTriageStore } from '../adapters/dynamodb/triage-store.js';
import type { AuditSink } from '../core/ports.js';
import { createHttpCore } from '../http/core.js';
import { triageOperations } from '../http/operations/triage.js';
import { createStdoutAudit, logError, type LineWriter } from './audit-stdout.js';
import { readEnv, readMaxRiskAcceptanceDays } from './env.js';
import type { ProxyEvent, ProxyResult } from './events.js';
import { proxyHandler } from './proxy.js';

export interface TriageLambdaDeps {
  doc: DynamoDBDocumentClient;
  findingsTable: string;
  policyTable: string;
  /** The Feeds table the reader joins KEV and EPSS from (none: no feed imported). */
  feedsTable?: string | undefined;
  audit: AuditSink;
  /** Longest risk acceptance in days (VULNVAULT_MAX_RISK_ACCEPTANCE_DAYS, default 365). */
  maxRiskAcceptanceDays: number;
  /** The clock expiry is evaluated against (tests inject one). */
  clock?: (() => Date) | undefined;
  log: LineWriter;
}

export function createTriageHandler(deps: TriageLambdaDeps) {
  return proxyHandler(
    createHttpCore({
      operations: triageOperations({
        policies: createDynamoPolicyReader(deps.doc, deps.policyTable),
        triage: createDynamoTriageStore(deps.doc, deps.findingsTable, {
          feedsTable: deps.feedsTable,
        }),
        reader: createDynamoFindingsReader(deps.doc, deps.findingsTable, {
          feedsTable: deps.feedsTable,
        }),
        audit: deps.audit,
        maxRiskAcceptanceDays: deps.maxRiskAcceptanceDays,
        clock: deps.clock,
      }),
      report: (requestId, err) => logError(deps.log, requestId, err),
    }),
  );
}

let live: ReturnType<typeof createTriageHandler> | undefined;

export async function handler(event: ProxyEvent): Promise<ProxyResult> {
  if (!live) {
    // Fails closed: without its table names, or with a risk-acceptance limit
    // that is not an integer from 1 to 3650, the function answers no request.
    const maxRiskAcceptanceDays = readMaxRiskAcceptanceDays();
    const env = readEnv(['findingsTable', 'policyTable', 'feedsTable']);
    const log: LineWriter = (line) => void process.stdout.write(`${line}\n`);
    live = createTriageHandler({
      doc: createDocumentClient(),
      findingsTable: env.findingsTable,
      policyTable: env.policyTable,
      feedsTable: env.feedsTable,
      audit: createStdoutAudit(log),
      maxRiskAcceptanceDays,
      log,
    });
  }
  return live(event);
}
