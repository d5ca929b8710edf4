// What the query and ingest entries share: routing a proxy event to its
// contract operation, the checks the local edge makes before a handler runs
// (415 for an unsupported media type, validation of path, query and JSON
// body from the contract — API Gateway skips body validation when no model
// matches the media type, so the function does it again), and responses in
// the local edge's shape: same error body, codes and security headers.

import { VaultError, isVaultError, ERROR_STATUS, type ErrorBody } from '../core/errors.js';
import { routesFromOpenApi, type RouteDef } from '../edge/openapi-routes.js';
import { resourceOf } from './routes.js';
import { parseJsonText } from '../edge/json-body.js';
import { SECURITY_HEADERS } from '../edge/security-headers.js';
import { compileValidator, type HttpPart } from '../edge/validation.js';
import { logError, type LineWriter } from './audit-stdout.js';
import type { ProxyEvent, ProxyResult } from './events.js';
import { OPENAPI_DOC } from './openapi-doc.js';

type Check = (data: unknown) => true | { error: VaultError };

export interface Operation {
  route: RouteDef;
  params: () => Check | undefined;
  query: () => Check | undefined;
  body: () => Check | undefined;
}

/** Compiles on first use only: a cold start pays for the routes it serves, not all of them. */
function lazy(schema: object | undefined, part: HttpPart): () => Check | undefined {
  let check: Check | undefined;
  return () => (schema === undefined ? undefined : (check ??= compileValidator(schema, part)));
}

/** Operations of the contract by "METHOD /resource/{param}". */
export function contractOperations(operationIds: readonly string[]): Map<string, Operation> {
  const ops = new Map<string, Operation>();
  for (const route of routesFromOpenApi(OPENAPI_DOC)) {
    if (!operationIds.includes(route.operationId)) continue;
    ops.set(`${route.method} ${resourceOf(route)}`, {
      route,
      params: lazy(route.schema.params, 'params'),
      query: lazy(route.schema.querystring, 'querystring'),
      body: lazy(route.schema.body, 'body'),
    });
  }
  return ops;
}

export function findOperation(ops: Map<string, Operation>, event: ProxyEvent): Operation {
  const op = ops.get(`${event.httpMethod} ${event.resource}`);
  if (op) return op;
  if ([...ops.keys()].some((k) => k.endsWith(` ${event.resource}`))) {
    throw new VaultError(
      'method_not_allowed',
      `method ${event.httpMethod} is not allowed on this route`,
    );
  }
  throw new VaultError('not_found', 'no such route');
}

/** A header by name, whatever its case (REST API events keep the client's case). */
export function header(event: ProxyEvent, name: string): string | undefined {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {})) {
    if (k.toLowerCase() === want && v !== undefined) return v;
  }
  return undefined;
}

function mediaTypeOf(value: string | undefined): { type: string; charset?: string } | undefined {
  if (!value) return undefined;
  const [type, ...params] = value.split(';');
  const charset = params
    .map((p) => p.trim().toLowerCase())
    .find((p) => p.startsWith('charset='))
    ?.slice(8)
    .replace(/"/g, '');
  return { type: (type ?? '').trim().toLowerCase(), ...(charset ? { charset } : {}) };
}

export function rawBody(event: ProxyEvent): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
}

/** CSH 1.1, as the local edge: 415 unless the body's media type is one the route accepts. */
export function checkMediaType(op: Operation, event: ProxyEvent): string | undefined {
  const types = op.route.mediaTypes;
  if (types.length === 0) return undefined;
  const mt = mediaTypeOf(header(event, 'content-type'));
  if (!mt && rawBody(event).length === 0 && !op.route.bodyRequired) return undefined;
  const ok =
    mt !== undefined &&
    types.includes(mt.type) &&
    (mt.charset === undefined || mt.charset === 'utf-8' || mt.charset === 'utf8');
  if (!ok) {
    throw new VaultError(
      'unsupported_media_type',
      `Content-Type must be ${types.join(' or ')}${mt?.charset ? ' (UTF-8)' : ''}`,
    );
  }
  return mt.type;
}

/** Single-valued query parameters; a repeated one is a validation error, as on the edge. */
function queryOf(event: ProxyEvent): Record<string, string> {
  const out: Record<string, string> = {};
  const multi = event.multiValueQueryStringParameters ?? {};
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) {
    if (v === undefined) continue;
    if ((multi[k]?.length ?? 1) > 1) {
      throw new VaultError(
        'validation_failed',
        `query parameter '${k.slice(0, 64)}' must not be repeated`,
      );
    }
    out[k] = v;
  }
  return out;
}

export interface ValidRequest {
  params: Record<string, unknown>;
  query: Record<string, unknown>;
  /** The parsed JSON body for routes with a body schema. */
  body: unknown;
}

export function validateRequest(op: Operation, event: ProxyEvent): ValidRequest {
  const params: Record<string, unknown> = { ...(event.pathParameters ?? {}) };
  const query: Record<string, unknown> = queryOf(event);
  const run = (get: () => Check | undefined, data: unknown) => {
    const check = get();
    if (!check) return;
    const r = check(data);
    if (r !== true) throw r.error;
  };
  run(op.params, params);
  run(op.query, query);
  let body: unknown;
  if (op.route.schema.body) {
    body = parseJsonText(rawBody(event).toString('utf8'));
    run(op.body, body);
  }
  return { params, query, body };
}

export function jsonResult(
  requestId: string,
  status: number,
  body: unknown,
  extra: Record<string, string> = {},
): ProxyResult {
  return {
    statusCode: status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'x-request-id': requestId,
      ...SECURITY_HEADERS,
      ...extra,
    },
    body: JSON.stringify(body),
  };
}

/** CSH 1.3: catalog errors as they are; anything else logged and answered 500. */
export function errorResult(requestId: string, err: unknown, log: LineWriter): ProxyResult {
  if (isVaultError(err)) {
    if (err.statusCode >= 500) logError(log, requestId, err);
    const body: ErrorBody = { code: err.code, message: err.message, requestId };
    return jsonResult(requestId, err.statusCode, body);
  }
  logError(log, requestId, err);
  const body: ErrorBody = {
    code: 'internal_error',
    message: 'internal error; quote the request id when reporting it',
    requestId,
  };
  return jsonResult(requestId, ERROR_STATUS.internal_error, body);
}
