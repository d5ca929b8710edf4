// Lambda entry for the write routes (POST /vuln, POST /v1/orgs/{org}/scans)
// on both APIs. Like the query entry it enforces 415 and validation itself
// (API Gateway validates no body whose media type has no model), takes the
// principal from the authorizer context or the IAM identity, and authorizes
// through the same function as the local edge before anything is written.

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../adapters/dynamodb/client.js';
import { createDynamoFindingsWriter } from '../adapters/dynamodb/findings-writer.js';
import { createDynamoIdempotencyStore } from '../adapters/dynamodb/idempotency-store.js';
import { createDynamoPolicyReader } from '../adapters/dynamodb/policy-store.js';
import { VaultError } from '../core/errors.js';
import type { AuditSink } from '../core/ports.js';
import type { SeedRecord } from '../core/seed-record.js';
import { deref } from '../edge/openapi-routes.js';
import { compileValidator } from '../edge/validation.js';
import type { ItemValidator } from '../formats/native-json.js';
import { FORMAT_BY_MEDIA_TYPE } from '../formats/format.js';
import { parserFactories } from '../formats/index.js';
import { createAuthorize } from '../functions/authorize.js';
import type { Replayable } from '../functions/idempotency.js';
import { ingestScan } from '../functions/ingest/ingest-scan.js';
import { postVuln } from '../functions/seed/post-vuln.js';
import { createStdoutAudit, type LineWriter } from './audit-stdout.js';
import { readEnv } from './env.js';
import type { ProxyEvent, ProxyResult } from './events.js';
import {
  checkMediaType,
  contractOperations,
  errorResult,
  findOperation,
  header,
  jsonResult,
  rawBody,
  validateRequest,
} from './http.js';
import { OPENAPI_DOC } from './openapi-doc.js';
import { principalFromEvent } from './principal.js';

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

const OPS = contractOperations(['postVuln', 'postScan']);

function idempotencyKey(event: ProxyEvent): string | undefined {
  for (const [k, v] of Object.entries(event.multiValueHeaders ?? {})) {
    if (k.toLowerCase() === 'idempotency-key' && v && v.length > 1) return v.join(',');
  }
  return header(event, 'idempotency-key');
}

/** As the edge's (stream-body.ts), on the bundled contract: no YAML parser in the bundle. */
function nativeFindingValidator(): ItemValidator {
  const schema = deref(OPENAPI_DOC, OPENAPI_DOC.components.schemas.NativeFinding ?? {}) as object;
  const check = compileValidator(schema, 'body');
  return (item, index) => {
    const r = check(item);
    return r === true ? undefined : r.error.message.replace(/^body/, `findings[${index}]`);
  };
}

async function* once(body: Buffer): AsyncGenerator<Uint8Array> {
  if (body.length > 0) yield body;
}

export function createIngestHandler(deps: IngestLambdaDeps) {
  const fdeps = {
    authorize: createAuthorize({
      policies: createDynamoPolicyReader(deps.doc, deps.policyTable),
      audit: deps.audit,
    }),
    writer: createDynamoFindingsWriter(deps.doc, deps.findingsTable),
    idempotency: createDynamoIdempotencyStore(deps.doc, deps.idempotencyTable),
    audit: deps.audit,
    parsers: parserFactories(nativeFindingValidator()),
    maxBytes: LAMBDA_UPLOAD_LIMIT,
  };
  const send = <T>(requestId: string, r: Replayable<T>) =>
    jsonResult(requestId, r.status, r.body, r.replayed ? { 'idempotent-replayed': 'true' } : {});

  return async (event: ProxyEvent): Promise<ProxyResult> => {
    const requestId = event.requestContext?.requestId ?? '';
    try {
      const op = findOperation(OPS, event);
      const mediaType = checkMediaType(op, event);
      const req = validateRequest(op, event);
      const ctx = {
        requestId,
        sourceIp: event.requestContext.identity?.sourceIp ?? '',
        principal: principalFromEvent(event),
      };
      if (op.route.operationId === 'postVuln') {
        const r = await postVuln(
          ctx,
          req.body as SeedRecord | SeedRecord[],
          fdeps,
          idempotencyKey(event),
        );
        return send(requestId, r);
      }
      const format = mediaType === undefined ? undefined : FORMAT_BY_MEDIA_TYPE[mediaType];
      if (!format) throw new VaultError('unsupported_media_type', 'unsupported Content-Type');
      const r = await ingestScan(
        ctx,
        {
          org: req.params.org as string,
          format,
          body: once(rawBody(event)),
          idempotencyKey: idempotencyKey(event),
        },
        fdeps,
      );
      return send(requestId, r);
    } catch (err) {
      return errorResult(requestId, err, deps.log);
    }
  };
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
