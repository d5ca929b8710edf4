// Lambda entry for the read routes (GET /vuln and /v1/orgs/{org}/findings,
// …/findings/{id}, …/summary) on both APIs. It re-checks what the gateway
// and the authorizer checked — route, validation, principal, and the policy
// through the same authorize function (defense in depth) — and reads through
// the reader port only (IAM 1.3).

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { createDynamoFindingsReader } from '../adapters/dynamodb/findings-reader.js';
import { createDynamoPolicyReader } from '../adapters/dynamodb/policy-store.js';
import type { FindingStatus } from '../core/finding.js';
import type { AuditSink } from '../core/ports.js';
import { createAuthorize } from '../functions/authorize.js';
import { getFinding, getSummary, listFindings } from '../functions/query/findings.js';
import { getVuln } from '../functions/seed/get-vuln.js';
import { createStdoutAudit, type LineWriter } from './audit-stdout.js';
import { readEnv } from './env.js';
import type { ProxyEvent, ProxyResult } from './events.js';
import {
  checkMediaType,
  contractOperations,
  errorResult,
  findOperation,
  jsonResult,
  validateRequest,
} from './http.js';
import { principalFromEvent } from './principal.js';

export interface QueryLambdaDeps {
  doc: DynamoDBDocumentClient;
  findingsTable: string;
  policyTable: string;
  audit: AuditSink;
  log: LineWriter;
}

const OPS = contractOperations(['getVuln', 'listFindings', 'getFinding', 'getSummary']);

export function createQueryHandler(deps: QueryLambdaDeps) {
  const fdeps = {
    authorize: createAuthorize({
      policies: createDynamoPolicyReader(deps.doc, deps.policyTable),
      audit: deps.audit,
    }),
    reader: createDynamoFindingsReader(deps.doc, deps.findingsTable),
    audit: deps.audit,
  };
  return async (event: ProxyEvent): Promise<ProxyResult> => {
    const requestId = event.requestContext?.requestId ?? '';
    try {
      const op = findOperation(OPS, event);
      checkMediaType(op, event);
      const req = validateRequest(op, event);
      const ctx = {
        requestId,
        sourceIp: event.requestContext.identity?.sourceIp ?? '',
        principal: principalFromEvent(event),
      };
      const org = req.params.org as string;
      switch (op.route.operationId) {
        case 'getVuln': {
          const q = req.query as { org: string; limit: number; cursor?: string };
          return jsonResult(requestId, 200, await getVuln(ctx, q, fdeps));
        }
        case 'listFindings': {
          const q = req.query as {
            severity?: string;
            status?: FindingStatus;
            cve?: string;
            asset?: string;
            since?: string;
            q?: string;
            limit: number;
            cursor?: string;
          };
          return jsonResult(requestId, 200, await listFindings(ctx, { org, ...q }, fdeps));
        }
        case 'getFinding': {
          const id = req.params.id as string;
          return jsonResult(requestId, 200, await getFinding(ctx, { org, id }, fdeps));
        }
        default: {
          const { top } = req.query as { top: number };
          return jsonResult(requestId, 200, await getSummary(ctx, { org, top }, fdeps));
        }
      }
    } catch (err) {
      return errorResult(requestId, err, deps.log);
    }
  };
}

let live: ReturnType<typeof createQueryHandler> | undefined;

export async function handler(event: ProxyEvent): Promise<ProxyResult> {
  if (!live) {
    const env = readEnv(['findingsTable', 'policyTable']);
    const log: LineWriter = (line) => void process.stdout.write(`${line}\n`);
    live = createQueryHandler({
      doc: createDocumentClient(),
      findingsTable: env.findingsTable,
      policyTable: env.policyTable,
      audit: createStdoutAudit(log),
      log,
    });
  }
  return live(event);
}
