// The conformance driver for the Lambda entries: createAuthorizer,
// createQueryHandler, createIngestHandler and createTriageHandler from
// src/lambda, driven as API
// Gateway (REST, mTLS API) drives them, against the real DynamoDB Local, with
// a CA, client certificates and a CRL made by the project's PKI code.
//
// Mocked: S3 only (FakeS3 serves the truststore and CRL from memory; it
// cannot run here). Emulated, as API Gateway would do it:
// - a concrete path becomes the contract's resource template plus
//   pathParameters, and the query string single- and multi-value parameters;
// - the function is chosen by the operation's x-vulnvault-action
//   (findings:read → query, findings:write → ingest, findings:triage →
//   triage, none → query) through infra/lib/openapi-spec.ts's own map;
// - the authorizer runs first; its Deny becomes the ACCESS_DENIED gateway
//   response the deployed API is configured with (infra/lib/openapi-spec.ts);
// - a path outside the contract, or a method a path does not have, goes
//   straight to a function (query for an unknown path, the path's own
//   function for a wrong method) so that the functions' 404 / 405 are what
//   the suite checks. (A deployed REST API answers those itself, with its
//   MISSING_AUTHENTICATION_TOKEN response: 403.)
//
// This is the only file that knows the Lambda entries' names: when they
// change, adapt it here.

import { randomBytes, randomUUID } from 'node:crypto';
import type { DynamoTables } from '../../src/adapters/dynamodb/client.js';
import { createDynamoPolicyWriter } from '../../src/adapters/dynamodb/policy-store.js';
import { createStdoutAudit } from '../../src/lambda/audit-stdout.js';
import { createAuthorizer } from '../../src/lambda/authorizer.js';
import type { ProxyEvent, ProxyResult } from '../../src/lambda/events.js';
import { readCursorKeys, readMaxRiskAcceptanceDays } from '../../src/lambda/env.js';
import { createIngestHandler } from '../../src/lambda/ingest.js';
import { createQueryHandler } from '../../src/lambda/query.js';
import { createTriageHandler } from '../../src/lambda/triage.js';
import { createTrustSource } from '../../src/lambda/trust-material.js';
import { createCrl } from '../../src/pki/crl.js';
import { createCa, type PemPair } from '../../src/pki/issue.js';
import { FUNCTION_FOR_ACTION, GATEWAY_RESPONSES } from '../../infra/lib/openapi-spec.js';
import { startDynamoLocal } from '../helpers/dynamodb-local.js';
import { FakeS3, proxyEvent, viaGateway, type Req } from '../helpers/lambda.js';
import { clientCert } from '../helpers/vault.js';
import { matchRoute } from './contract.js';
import {
  parseJson,
  type Caller,
  type Runtime,
  type RuntimeRequest,
  type RuntimeResponse,
  type StartRuntime,
} from './runtime.js';

const BUCKET = 'trust-bucket';
const DAY = 86_400_000;

type Fn = (e: ProxyEvent) => Promise<ProxyResult>;

interface GatewayResponseSpec {
  statusCode: number;
  responseParameters: Record<string, string>;
  responseTemplates: Record<string, string>;
}

/** API Gateway's rendering of a configured gateway response for one request. */
function gatewayResponse(type: string, requestId: string): RuntimeResponse {
  const spec = GATEWAY_RESPONSES[type] as GatewayResponseSpec | undefined;
  if (!spec) throw new Error(`no gateway response ${type} in infra/lib/openapi-spec.ts`);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [k, v] of Object.entries(spec.responseParameters)) {
    const name = k.replace(/^gatewayresponse\.header\./, '').toLowerCase();
    // A mapping value is a quoted literal or a context variable.
    headers[name] = v === 'context.requestId' ? requestId : v.replace(/^'(.*)'$/, '$1');
  }
  const text = (spec.responseTemplates['application/json'] ?? '').replaceAll(
    '$context.requestId',
    requestId,
  );
  return { status: spec.statusCode, headers, text, json: parseJson(text) };
}

function fromProxyResult(r: ProxyResult): RuntimeResponse {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) headers[k.toLowerCase()] = v;
  return { status: r.statusCode, headers, text: r.body, json: parseJson(r.body) };
}

function queryOf(path: string): Record<string, string | string[]> | undefined {
  const i = path.indexOf('?');
  if (i < 0) return undefined;
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(path.slice(i + 1))) {
    const prev = out[k];
    out[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
  }
  return out;
}

export const startLambdaRuntime: StartRuntime = async () => {
  const ddb = await startDynamoLocal();
  let tables: DynamoTables;
  try {
    tables = await ddb.newTables();
  } catch (err) {
    await ddb.stop();
    throw err;
  }
  const ca = await createCa(
    { cn: 'vulnvault conformance CA', o: 'vulnvault-demo' },
    new Date(Date.now() + 30 * DAY),
  );
  const issue = (cn: string, ou: Caller) => clientCert(ca, { cn, o: 'vulnvault-demo', ou: [ou] });
  const certs: Record<Caller, PemPair> = {
    scanner: await issue('nessus-1', 'scanner'),
    customer: await issue('customer-1', 'customer'),
    stranger: await issue('stranger-1', 'stranger'),
  };
  const s3 = new FakeS3();
  s3.objects.set(`${BUCKET}/truststore.pem`, Buffer.from(ca.certPem));
  s3.objects.set(
    `${BUCKET}/crl.pem`,
    Buffer.from(await createCrl(ca, [], new Date(Date.now() + DAY))),
  );
  // Audit and error lines are not what this suite checks.
  const discard = () => undefined;
  const audit = createStdoutAudit(discard);
  const policies = createDynamoPolicyWriter(ddb.doc, tables.policies);
  const authorizer = createAuthorizer({
    trust: createTrustSource(s3.asClient(), {
      bucket: BUCKET,
      truststoreKey: 'truststore.pem',
      crlKey: 'crl.pem',
    }),
    doc: ddb.doc,
    policyTable: tables.policies,
    audit,
  });
  const query: Fn = createQueryHandler({
    doc: ddb.doc,
    findingsTable: tables.findings,
    policyTable: tables.policies,
    feedsTable: tables.feeds,
    audit,
    // As the CDK app configures it: the secret in the function's environment.
    cursors: readCursorKeys({ VULNVAULT_CURSOR_SECRET: randomBytes(48).toString('base64url') }),
    log: discard,
  });
  const ingest: Fn = createIngestHandler({
    doc: ddb.doc,
    findingsTable: tables.findings,
    policyTable: tables.policies,
    idempotencyTable: tables.idempotency,
    audit,
    log: discard,
  });
  const triage: Fn = createTriageHandler({
    doc: ddb.doc,
    findingsTable: tables.findings,
    policyTable: tables.policies,
    feedsTable: tables.feeds,
    audit,
    // As the CDK app configures it by default.
    maxRiskAcceptanceDays: readMaxRiskAcceptanceDays({}),
    log: discard,
  });
  const functions = { query, ingest, triage };
  const fnFor = (action: string | undefined): Fn => {
    const name =
      action !== undefined && Object.hasOwn(FUNCTION_FOR_ACTION, action)
        ? FUNCTION_FOR_ACTION[action]
        : undefined;
    return name ? functions[name] : query;
  };

  async function request(r: RuntimeRequest): Promise<RuntimeResponse> {
    const match = matchRoute(r.method, r.path);
    const q = queryOf(r.path);
    const base = {
      // The helper's type names the two methods the contract uses; API
      // Gateway hands over whatever the client sent.
      method: r.method.toUpperCase() as Req['method'],
      ...(q ? { query: q } : {}),
      ...(r.headers ? { headers: r.headers } : {}),
      ...(r.body === undefined ? {} : { body: r.body }),
    };
    if (match.kind === 'not_found') {
      const path = r.path.split('?')[0] ?? '';
      return fromProxyResult(await query(proxyEvent({ ...base, resource: path }, {})));
    }
    if (match.kind === 'method_not_allowed') {
      const req: Req = {
        ...base,
        resource: match.template,
        pathParameters: match.pathParameters,
      };
      const fn = fnFor(match.operations[0]?.action);
      return fromProxyResult(await fn(proxyEvent(req, {})));
    }
    const req: Req = {
      ...base,
      resource: match.operation.template,
      ...(Object.keys(match.pathParameters).length > 0
        ? { pathParameters: match.pathParameters }
        : {}),
    };
    const fn = fnFor(match.operation.action);
    // viaGateway reports a refusal in its own shape; the function's own
    // answer is kept as it was sent, byte for byte.
    let sent: ProxyResult | undefined;
    const capture: Fn = async (e) => (sent = await fn(e));
    try {
      await viaGateway(authorizer, capture, req, certs[r.as].certPem);
    } catch (err) {
      if (!sent) throw err; // a body that is not JSON: checked by the suite, not here
    }
    return sent ? fromProxyResult(sent) : gatewayResponse('ACCESS_DENIED', randomUUID());
  }

  const runtime: Runtime = {
    name: 'lambda',
    async grant(who, action, org) {
      await policies.grant({ principal: { type: 'ou', name: who }, action, org });
    },
    request,
    async close() {
      await ddb.stop();
    },
  };
  return runtime;
};
