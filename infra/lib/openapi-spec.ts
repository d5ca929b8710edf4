// Turns the project's one contract (openapi/vulnvault.yaml) into the body of an
// API Gateway REST API: each operation gets an AWS_PROXY integration to the
// function its `x-vulnvault-action` names, a request validator and an
// authorizer (the Lambda REQUEST authorizer for the mTLS API, AWS_IAM for the
// IAM API). Pure function: the Lambda ARNs come in as (token) strings.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export type ApiVariant = 'mtls' | 'iam';

export interface SpecTargets {
  variant: ApiVariant;
  /** `arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/ARN/invocations` */
  queryInvokeUri: string;
  ingestInvokeUri: string;
  triageInvokeUri: string;
  /** Only for the mtls variant. */
  authorizerInvokeUri?: string;
}

type Json = Record<string, unknown>;

export const AUTHORIZER_SCHEME = 'vulnvaultMtlsAuthorizer';
export const SIGV4_SCHEME = 'sigv4';
export const VALIDATOR_BODY_AND_PARAMS = 'body-and-params';
export const VALIDATOR_PARAMS = 'params-only';

/**
 * Which function serves an action; an operation without one is not exposed.
 * The Lambda conformance driver routes by this map too.
 */
export const FUNCTION_FOR_ACTION: Readonly<Record<string, 'query' | 'ingest' | 'triage'>> = {
  'findings:read': 'query',
  'findings:write': 'ingest',
  'findings:triage': 'triage',
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

export function loadContract(path: string): Json {
  return parse(readFileSync(path, 'utf8')) as Json;
}

function obj(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new Error(`openapi: ${where} is not an object`);
  }
  return v as Json;
}

/** Resolves `#/components/parameters/X` so API Gateway sees plain parameters. */
function derefParameter(spec: Json, p: unknown): Json {
  const param = obj(p, 'parameter');
  const ref = param.$ref;
  if (typeof ref !== 'string') return param;
  const name = /^#\/components\/parameters\/([A-Za-z0-9_.-]+)$/.exec(ref)?.[1];
  const target = name
    ? obj(obj(spec.components, 'components').parameters, 'parameters')[name]
    : undefined;
  if (!target) throw new Error(`openapi: unresolved parameter ${ref}`);
  return structuredClone(obj(target, ref));
}

function mapValues(v: unknown, f: (x: unknown) => unknown): Json {
  return Object.fromEntries(Object.entries(obj(v, 'schema map')).map(([k, x]) => [k, f(x)]));
}

/**
 * API Gateway models are JSON Schema draft 4: OpenAPI's `nullable` is not
 * understood there, so `{type: T, nullable: true}` becomes `type: [T, 'null']`.
 */
function toDraft4(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toDraft4);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'nullable' || k === 'example' || k === 'format') continue;
    // Under `properties` (and `components.schemas`) the keys are names, not keywords.
    out[k] = k === 'properties' ? mapValues(v, toDraft4) : toDraft4(v);
  }
  const s = schema as Json;
  if (s.nullable === true && typeof s.type === 'string') out.type = [s.type, 'null'];
  return out;
}

/** Only JSON bodies can be checked by a model; other media types are streamed to ingest as-is. */
function requestBody(body: unknown): Json {
  const b = obj(body, 'requestBody');
  const content: Json = {};
  for (const [media, entry] of Object.entries(obj(b.content, 'requestBody.content'))) {
    const e = obj(entry, media);
    // A streamed body (format: binary, e.g. a scan upload whose format is
    // detected from its content) gets no model: ingest checks it as it streams.
    const streamed = (e.schema as Json | undefined)?.format === 'binary';
    content[media] =
      media === 'application/json' && e.schema && !streamed ? { schema: toDraft4(e.schema) } : {};
  }
  return { required: b.required === true, content };
}

/** Responses keep their status codes and descriptions; API Gateway does not validate them. */
function responses(r: unknown): Json {
  const out: Json = {};
  for (const code of Object.keys(obj(r, 'responses'))) {
    out[code] = { description: `see openapi/vulnvault.yaml (${code})` };
  }
  return out;
}

/** The error body of the contract (`{code, message, requestId}`) for API Gateway's own refusals. */
function gatewayResponse(status: number, code: string, message: string): Json {
  return {
    statusCode: status,
    responseParameters: {
      'gatewayresponse.header.Cache-Control': "'no-store'",
      'gatewayresponse.header.X-Content-Type-Options': "'nosniff'",
      'gatewayresponse.header.Strict-Transport-Security': "'max-age=31536000; includeSubDomains'",
      'gatewayresponse.header.x-request-id': 'context.requestId',
    },
    responseTemplates: {
      'application/json': JSON.stringify({ code, message, requestId: '$context.requestId' }),
    },
  };
}

export const GATEWAY_RESPONSES: Json = {
  BAD_REQUEST_BODY: gatewayResponse(
    400,
    'validation_failed',
    'the request body does not match the contract',
  ),
  BAD_REQUEST_PARAMETERS: gatewayResponse(
    400,
    'validation_failed',
    'a required parameter is missing',
  ),
  UNSUPPORTED_MEDIA_TYPE: gatewayResponse(415, 'unsupported_media_type', 'unsupported media type'),
  REQUEST_TOO_LARGE: gatewayResponse(413, 'payload_too_large', 'the request body is too large'),
  UNAUTHORIZED: gatewayResponse(401, 'unauthenticated', 'authentication required'),
  MISSING_AUTHENTICATION_TOKEN: gatewayResponse(
    403,
    'forbidden',
    'no such route, or the request is not signed',
  ),
  INVALID_SIGNATURE: gatewayResponse(401, 'unauthenticated', 'the request signature is not valid'),
  EXPIRED_TOKEN: gatewayResponse(401, 'unauthenticated', 'the request signature has expired'),
  ACCESS_DENIED: gatewayResponse(403, 'forbidden', 'not allowed'),
  WAF_FILTERED: gatewayResponse(403, 'ip_denied', 'the source address is not allowed'),
  THROTTLED: gatewayResponse(429, 'rate_limited', 'too many requests'),
  QUOTA_EXCEEDED: gatewayResponse(429, 'quota_exceeded', 'quota exceeded'),
  // The authorizer failing (error, timeout) denies: 503, never a pass-through.
  AUTHORIZER_FAILURE: gatewayResponse(503, 'policy_unavailable', 'authorization is unavailable'),
  AUTHORIZER_CONFIGURATION_ERROR: gatewayResponse(
    503,
    'policy_unavailable',
    'authorization is unavailable',
  ),
  DEFAULT_4XX: gatewayResponse(400, 'bad_request', 'bad request'),
  DEFAULT_5XX: gatewayResponse(500, 'internal_error', 'internal error'),
};

function securitySchemes(t: SpecTargets): Json {
  if (t.variant === 'iam') {
    return {
      [SIGV4_SCHEME]: {
        type: 'apiKey',
        name: 'Authorization',
        in: 'header',
        'x-amazon-apigateway-authtype': 'awsSigv4',
      },
    };
  }
  if (!t.authorizerInvokeUri) throw new Error('openapi: the mtls variant needs an authorizer');
  return {
    [AUTHORIZER_SCHEME]: {
      type: 'apiKey',
      // Unused by a REQUEST authorizer with caching off; OpenAPI requires a name.
      name: 'Unused',
      in: 'header',
      'x-amazon-apigateway-authtype': 'custom',
      'x-amazon-apigateway-authorizer': {
        type: 'request',
        authorizerUri: t.authorizerInvokeUri,
        // No cache: the authorizer returns a policy for exactly one methodArn
        // (route + org), and the client certificate is not an identity source
        // API Gateway can key a cache on; TTL 0 makes every request decide anew.
        authorizerResultTtlInSeconds: 0,
      },
    },
  };
}

/** Builds the API Gateway body for one variant from the contract. */
export function apiGatewaySpec(contract: Json, t: SpecTargets): Json {
  const invokeUris = {
    query: t.queryInvokeUri,
    ingest: t.ingestInvokeUri,
    triage: t.triageInvokeUri,
  };
  const paths: Json = {};
  for (const [path, item] of Object.entries(obj(contract.paths, 'paths'))) {
    const out: Json = {};
    for (const method of METHODS) {
      const op = obj(item, path)[method];
      if (op === undefined) continue;
      const o = obj(op, `${method} ${path}`);
      const action = o['x-vulnvault-action'];
      if (action === undefined && Array.isArray(o.security) && o.security.length === 0) {
        // A local-only public probe (GET /healthz): nothing to expose on AWS.
        continue;
      }
      // Own keys only: an action named like an Object.prototype member is unknown.
      const fn =
        typeof action === 'string' && Object.hasOwn(FUNCTION_FOR_ACTION, action)
          ? FUNCTION_FOR_ACTION[action]
          : undefined;
      if (!fn) throw new Error(`openapi: ${method} ${path} has no known x-vulnvault-action`);
      const hasBody = o.requestBody !== undefined;
      const operation: Json = {
        operationId: o.operationId,
        summary: o.summary,
        parameters: Array.isArray(o.parameters)
          ? o.parameters.map((p) => derefParameter(contract, p))
          : [],
        responses: responses(o.responses),
        security: [{ [t.variant === 'iam' ? SIGV4_SCHEME : AUTHORIZER_SCHEME]: [] }],
        'x-amazon-apigateway-request-validator': hasBody
          ? VALIDATOR_BODY_AND_PARAMS
          : VALIDATOR_PARAMS,
        'x-amazon-apigateway-integration': {
          type: 'aws_proxy',
          httpMethod: 'POST',
          uri: invokeUris[fn],
          // Ignored by proxy integrations but stated so that a future non-proxy
          // integration refuses unmapped media types (415) instead of passing them.
          passthroughBehavior: 'never',
          timeoutInMillis: 29000,
        },
      };
      if (hasBody) operation.requestBody = requestBody(o.requestBody);
      out[method] = operation;
    }
    if (Object.keys(out).length > 0) paths[path] = out;
  }
  const components = obj(contract.components, 'components');
  const info = obj(contract.info, 'info');
  return {
    openapi: '3.0.1',
    info: { title: `vulnvault-${t.variant}`, version: info.version },
    paths,
    components: {
      schemas: mapValues(components.schemas, toDraft4),
      securitySchemes: securitySchemes(t),
    },
    'x-amazon-apigateway-request-validators': {
      [VALIDATOR_BODY_AND_PARAMS]: { validateRequestBody: true, validateRequestParameters: true },
      [VALIDATOR_PARAMS]: { validateRequestBody: false, validateRequestParameters: true },
    },
    'x-amazon-apigateway-gateway-responses': GATEWAY_RESPONSES,
  };
}
