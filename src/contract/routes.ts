// The contract's operations as route definitions: URL template, JSON schemas
// for each request part and response, the media types a body may have and
// the action it needs. Pure (no file or YAML access): both runtimes use it
// on the bundled contract (bundle.ts).

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

export interface RouteDef {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Router form: /v1/orgs/:org */
  url: string;
  /** Contract (and API Gateway resource) form: /v1/orgs/{org} */
  path: string;
  operationId: string;
  action: string | undefined;
  mediaTypes: string[];
  bodyRequired: boolean;
  /** x-vulnvault-stream-body: the handler reads the raw body stream itself. */
  streamBody: boolean;
  schema: {
    body?: JsonObject;
    querystring?: JsonObject;
    params?: JsonObject;
    response: Record<string, JsonObject>;
  };
}

export interface OpenApiDoc {
  paths: Record<string, Record<string, JsonObject>>;
  components: { schemas: Record<string, JsonObject> };
}

/** Inlines every local $ref (the contract has no recursive schemas). */
export function deref(doc: OpenApiDoc, node: Json, depth = 0): Json {
  if (depth > 32) throw new Error('openapi: $ref nesting too deep');
  if (Array.isArray(node)) return node.map((n) => deref(doc, n, depth + 1));
  if (node === null || typeof node !== 'object') return node;
  const ref = node.$ref;
  if (typeof ref === 'string') {
    if (!ref.startsWith('#/')) throw new Error(`openapi: only local $ref supported: ${ref}`);
    let target: Json = doc as unknown as Json;
    for (const part of ref.slice(2).split('/')) {
      target = (target as JsonObject)[part] ?? null;
    }
    if (target === null) throw new Error(`openapi: unresolved $ref ${ref}`);
    return deref(doc, target, depth + 1);
  }
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) out[k] = deref(doc, v, depth + 1);
  return out;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

export function routesFromOpenApi(doc: OpenApiDoc): RouteDef[] {
  const routes: RouteDef[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) {
      const op = item[m];
      if (!op) continue;
      const full = deref(doc, op) as JsonObject;
      const params = (full.parameters ?? []) as JsonObject[];
      const partSchema = (where: string): JsonObject | undefined => {
        const ps = params.filter((p) => p.in === where);
        if (ps.length === 0) return where === 'query' ? emptyObject() : undefined;
        return {
          type: 'object',
          additionalProperties: false,
          required: ps.filter((p) => p.required === true).map((p) => p.name as string),
          properties: Object.fromEntries(ps.map((p) => [p.name as string, p.schema as Json])),
        };
      };
      const reqBody = full.requestBody as JsonObject | undefined;
      const content = (reqBody?.content ?? {}) as Record<string, JsonObject>;
      const mediaTypes = Object.keys(content);
      const jsonBody = content['application/json']?.schema as JsonObject | undefined;
      const response: Record<string, JsonObject> = {};
      for (const [status, r] of Object.entries(
        (full.responses ?? {}) as Record<string, JsonObject>,
      )) {
        const s = (r.content as Record<string, JsonObject> | undefined)?.['application/json']
          ?.schema;
        if (s) response[status] = s as JsonObject;
      }
      const schema: RouteDef['schema'] = { response };
      const streamBody = full['x-vulnvault-stream-body'] === true;
      if (jsonBody && !streamBody) schema.body = jsonBody;
      const qs = partSchema('query');
      if (qs) schema.querystring = qs;
      const ps = partSchema('path');
      if (ps) schema.params = ps;
      routes.push({
        method: m.toUpperCase() as RouteDef['method'],
        url: path.replace(/\{([^}]+)\}/g, ':$1'),
        path,
        operationId: full.operationId as string,
        action: full['x-vulnvault-action'] as string | undefined,
        mediaTypes,
        bodyRequired: reqBody?.required === true,
        streamBody,
        schema,
      });
    }
  }
  return routes;
}

function emptyObject(): JsonObject {
  return { type: 'object', additionalProperties: false, properties: {} };
}
