// The contract as the conformance suite reads it: openapi/vulnvault.yaml
// parsed here (not through src/, which is being rewritten), local $refs
// inlined, and each response schema compiled with ajv. It answers two
// questions: which operation does a request name, and does a response body
// match what the contract promises for that operation and status.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import formats from 'ajv-formats';
import { parse } from 'yaml';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

export const CONTRACT_FILE = join(import.meta.dirname, '..', '..', 'openapi', 'vulnvault.yaml');

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

export interface Operation {
  operationId: string;
  /** Upper case, e.g. GET. */
  method: string;
  /** The contract's path template, e.g. /v1/orgs/{org}/findings. */
  template: string;
  /** x-vulnvault-action, e.g. findings:read; undefined for public operations. */
  action: string | undefined;
  /** Response schemas by status key ('200', '404', 'default'); undefined: no JSON body. */
  responses: Record<string, JsonObject | undefined>;
}

export type RouteMatch =
  | { kind: 'operation'; operation: Operation; pathParameters: Record<string, string> }
  | {
      kind: 'method_not_allowed';
      template: string;
      operations: Operation[];
      pathParameters: Record<string, string>;
    }
  | { kind: 'not_found' };

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Inlines every local $ref; the contract has no recursive schemas. */
export function deref(root: Json, node: Json, depth = 0): Json {
  if (depth > 64) throw new Error('contract: $ref nesting too deep');
  if (Array.isArray(node)) return node.map((n) => deref(root, n, depth + 1));
  if (!isObject(node)) return node;
  const ref = node.$ref;
  if (typeof ref === 'string') {
    if (!ref.startsWith('#/')) throw new Error(`contract: only local $ref supported: ${ref}`);
    let target: Json | undefined = root;
    for (const part of ref.slice(2).split('/')) {
      const key = part.replaceAll('~1', '/').replaceAll('~0', '~');
      target = isObject(target) ? target[key] : undefined;
    }
    if (target === undefined) throw new Error(`contract: unresolved $ref ${ref}`);
    return deref(root, target, depth + 1);
  }
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) out[k] = deref(root, v, depth + 1);
  return out;
}

function loadOperations(file: string): { operations: Operation[]; doc: JsonObject } {
  const raw = parse(readFileSync(file, 'utf8')) as Json;
  if (!isObject(raw) || !isObject(raw.paths)) throw new Error(`${file}: no paths`);
  const doc = deref(raw, raw) as JsonObject;
  const operations: Operation[] = [];
  for (const [template, item] of Object.entries(doc.paths as JsonObject)) {
    if (!isObject(item)) continue;
    for (const m of METHODS) {
      const op = item[m];
      if (!isObject(op)) continue;
      const responses: Record<string, JsonObject | undefined> = {};
      for (const [status, r] of Object.entries(isObject(op.responses) ? op.responses : {})) {
        const content = isObject(r) && isObject(r.content) ? r.content : {};
        const json = content['application/json'];
        responses[status] = isObject(json) && isObject(json.schema) ? json.schema : undefined;
      }
      const action = op['x-vulnvault-action'];
      if (typeof op.operationId !== 'string') {
        throw new Error(`${file}: ${m} ${template} has no operationId`);
      }
      operations.push({
        operationId: op.operationId,
        method: m.toUpperCase(),
        template,
        action: typeof action === 'string' ? action : undefined,
        responses,
      });
    }
  }
  return { operations, doc };
}

const loaded = loadOperations(CONTRACT_FILE);

/** Every operation of the contract, path by path. */
export const OPERATIONS: readonly Operation[] = loaded.operations;

/** The Error component: the body of every error, and of 404/405 outside any operation. */
const ERROR_SCHEMA = ((loaded.doc.components as JsonObject).schemas as JsonObject)
  .Error as JsonObject;

// strict: false lets OpenAPI's annotations (description, example) through;
// ajv 8 implements OpenAPI 3.0's `nullable` itself (the self-test proves it).
const ajv = new Ajv({ strict: false, allErrors: true });
formats.default(ajv);

const compiled = new Map<string, ValidateFunction>();
function compile(key: string, schema: JsonObject): ValidateFunction {
  let v = compiled.get(key);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(key, v);
  }
  return v;
}

export function operation(operationId: string): Operation {
  const op = OPERATIONS.find((o) => o.operationId === operationId);
  if (!op) throw new Error(`contract: no operation ${operationId}`);
  return op;
}

function templateMatch(template: string, path: string): Record<string, string> | undefined {
  const want = template.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] ?? '';
    const g = got[i] ?? '';
    const name = /^\{([^}]+)\}$/.exec(w)?.[1];
    if (name !== undefined) {
      if (g === '') return undefined;
      try {
        params[name] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else if (w !== g) return undefined;
  }
  return params;
}

/** Which operation a concrete path (query string allowed) names for a method. */
export function matchRoute(method: string, pathWithQuery: string): RouteMatch {
  const path = pathWithQuery.split('?')[0] ?? '';
  // Literal segments win over parameters (…/findings/analysis before …/findings/{id}).
  const params = (t: string) => t.split('{').length;
  const templates = [...new Set(OPERATIONS.map((o) => o.template))].sort(
    (a, b) => params(a) - params(b),
  );
  for (const template of templates) {
    const pathParameters = templateMatch(template, path);
    if (!pathParameters) continue;
    const ops = OPERATIONS.filter((o) => o.template === template);
    const op = ops.find((o) => o.method === method.toUpperCase());
    if (op) return { kind: 'operation', operation: op, pathParameters };
    return { kind: 'method_not_allowed', template, operations: ops, pathParameters };
  }
  return { kind: 'not_found' };
}

/**
 * The compiled schema for (operationId, status): the status entry, else
 * `default`. With no operation (a path or method outside the contract) the
 * Error component. Throws when the contract has no entry for that status.
 */
export function responseValidator(operationId: string | undefined, status: number) {
  if (operationId === undefined) return compile('#Error', ERROR_SCHEMA);
  const op = operation(operationId);
  const key = String(status) in op.responses ? String(status) : 'default';
  if (!(key in op.responses)) {
    throw new assert.AssertionError({
      message: `${operationId}: the contract lists no response ${status} and no default`,
    });
  }
  const schema = op.responses[key];
  if (!schema) {
    throw new assert.AssertionError({
      message: `${operationId} ${key}: the contract gives this response no JSON body`,
    });
  }
  return compile(`${operationId} ${key}`, schema);
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => {
      const p = e.params as Record<string, unknown>;
      const extra =
        e.keyword === 'additionalProperties'
          ? ` '${String(p.additionalProperty)}'`
          : e.keyword === 'enum'
            ? ` ${JSON.stringify(p.allowedValues)}`
            : '';
      return `  ${e.instancePath || '(body)'} ${e.message ?? e.keyword}${extra}`;
    })
    .join('\n');
}

/** Fails, listing ajv's errors, unless `body` matches the contract for (operationId, status). */
export function expectConforms(operationId: string | undefined, status: number, body: unknown) {
  const validate = responseValidator(operationId, status);
  if (validate(body)) return;
  const text = JSON.stringify(body);
  throw new assert.AssertionError({
    message:
      `${operationId ?? '(no operation)'} ${status}: the body does not match the contract\n` +
      `${describeErrors(validate.errors)}\n  body: ${text.length > 600 ? `${text.slice(0, 600)}…` : text}`,
    actual: body,
    operator: 'expectConforms',
  });
}
