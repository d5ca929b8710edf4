// The transport-neutral HTTP core both runtimes serve through. A transport
// (the local edge, a Lambda entry) converts its request into an HttpRequest,
// picks the operation (its router, or resolve() below), and gets back an
// HttpResponse. Everything between is here, in one order:
//
//   415 (media type) → path and query validation (a repeated parameter is
//   refused by name) → body: JSON parsed and validated, or handed over as a
//   stream → the caller's context (principal) → the operation's function →
//   serialisation, with the headers every response carries; any error → the
//   catalog's error body.
//
// Routes, schemas and media types come only from the contract (bundle.ts).

import { VaultError } from '../core/errors.js';
import type { CallContext } from '../core/principal.js';
import { OPENAPI_DOC } from '../contract/bundle.js';
import { routesFromOpenApi, type RouteDef } from '../contract/routes.js';
import { errorResponse, type ErrorReporter } from './errors.js';
import { parseJsonText } from './json-body.js';
import { checkMediaType } from './media-type.js';
import type { OperationId, OperationRequest } from './operation-types.js';
import { GROUP_OF_ACTION, type BoundOperations } from './operations/table.js';
import { singleValuedQuery, type RawQuery } from './query.js';
import { jsonResponse, type HttpResponse } from './response.js';
import { jsonSerializer, type SerializerFactory, type Serialize } from './serialize.js';
import { compileValidator, type HttpPart } from './validation.js';

export type { HttpResponse } from './response.js';

/** A request as a transport hands it over. */
export interface HttpRequest {
  requestId: string;
  params: Readonly<Record<string, string | undefined>>;
  query: RawQuery;
  /** A header by lower-case name; repeated headers joined with ','. */
  header(name: string): string | undefined;
  /** Whether the request has a body (Content-Length > 0, chunked, or a non-empty event body). */
  hasBody: boolean;
  /** The whole body as text (JSON routes; the transport enforces its size limit). */
  text(): string | Promise<string>;
  /** The body as it arrives (stream routes). */
  stream(): AsyncIterable<Uint8Array>;
  /** Who is calling; throws a catalog error when nobody is authenticated. */
  context(): CallContext;
}

type Check = (data: unknown) => true | { error: VaultError };

/** One operation this runtime serves. */
export interface Operation {
  id: OperationId;
  route: RouteDef;
}

interface Compiled extends Operation {
  serialize: (status: number) => Serialize;
  params: () => Check | undefined;
  query: () => Check | undefined;
  body: () => Check | undefined;
}

/** Compiles on first use only: a Lambda cold start pays for the routes it serves. */
function lazy(schema: object | undefined, part: HttpPart): () => Check | undefined {
  let check: Check | undefined;
  return () => (schema === undefined ? undefined : (check ??= compileValidator(schema, part)));
}

export interface HttpCore {
  /** The operations served, in contract order. */
  readonly operations: readonly Operation[];
  /** The operation of a method and contract path template ("/v1/orgs/{org}"); 404 / 405 otherwise. */
  resolve(method: string, path: string): Operation;
  /** 415 unless the body's media type is one the operation accepts; the media type. */
  mediaType(op: Operation, contentType: string | undefined, hasBody: boolean): string | undefined;
  /** Runs the request; never throws. */
  handle(op: Operation, req: HttpRequest): Promise<HttpResponse>;
  /** The response for an error raised outside handle() (a transport's own refusals). */
  error(requestId: string, err: unknown): HttpResponse;
}

export interface HttpCoreOptions {
  operations: BoundOperations;
  report: ErrorReporter;
  /**
   * How response bodies become bytes: JSON.stringify by default (the Lambda
   * entries: small bundles, fast cold starts); the local edge compiles the
   * contract's response schemas (serialize-schema.ts). Either way the
   * conformance suite checks what leaves against the contract.
   */
  serializer?: SerializerFactory;
}

export function createHttpCore(o: HttpCoreOptions): HttpCore {
  const byKey = new Map<string, Compiled>();
  const paths = new Set<string>();
  for (const route of routesFromOpenApi(OPENAPI_DOC)) {
    const id = route.operationId as OperationId;
    paths.add(route.path);
    if (!o.operations[id]) continue;
    const group = route.action === undefined ? 'public' : GROUP_OF_ACTION[route.action];
    if (group === undefined) {
      throw new Error(`contract: operation ${id} names unknown action ${route.action ?? ''}`);
    }
    byKey.set(`${route.method} ${route.path}`, {
      id,
      route,
      serialize: (o.serializer ?? jsonSerializer)(route),
      params: lazy(route.schema.params, 'params'),
      query: lazy(route.schema.querystring, 'querystring'),
      body: lazy(route.schema.body, 'body'),
    });
  }
  const compiled = (op: Operation): Compiled => {
    const c = byKey.get(`${op.route.method} ${op.route.path}`);
    if (!c) throw new VaultError('not_found', 'no such route');
    return c;
  };
  const run = (check: Check | undefined, data: unknown) => {
    if (!check) return;
    const r = check(data);
    if (r !== true) throw r.error;
  };

  const core: HttpCore = {
    operations: [...byKey.values()].map(({ id, route }) => ({ id, route })),

    resolve(method, path) {
      const op = byKey.get(`${method} ${path}`);
      if (op) return op;
      if (paths.has(path)) {
        throw new VaultError('method_not_allowed', `method ${method} is not allowed on this route`);
      }
      throw new VaultError('not_found', 'no such route');
    },

    mediaType: (op, contentType, hasBody) => checkMediaType(op.route, contentType, hasBody),

    async handle(op, req) {
      try {
        const c = compiled(op);
        const handler = o.operations[c.id];
        if (!handler) throw new VaultError('not_found', 'no such route');
        const mediaType = checkMediaType(c.route, req.header('content-type'), req.hasBody);
        const params: Record<string, unknown> = { ...req.params };
        run(c.params(), params);
        const query: Record<string, unknown> = singleValuedQuery(req.query);
        run(c.query(), query);
        let body: unknown;
        if (c.route.streamBody) body = req.stream();
        else if (c.route.schema.body) {
          body = parseJsonText(await req.text());
          run(c.body(), body);
        }
        const ctx = req.context();
        // Validated against the contract above: the shapes the types promise.
        const typed = {
          params,
          query,
          body,
          mediaType,
          header: (name: string) => req.header(name),
        } as OperationRequest<OperationId>;
        const r = await handler(typed, ctx);
        return jsonResponse(req.requestId, r.status, c.serialize(r.status)(r.body), r.headers);
      } catch (err) {
        return errorResponse(req.requestId, err, o.report);
      }
    },

    error: (requestId, err) => errorResponse(requestId, err, o.report),
  };
  return core;
}
