// API Gateway REST proxy events ↔ the HTTP core (src/http/core.ts). The
// gateway has routed the event to its resource template and authenticated
// the caller (the authorizer's context, or the IAM identity); the core
// checks again what the local edge checks — 415, validation of path, query
// and body from the contract (API Gateway validates no body whose media type
// has no model), authorization through the same function — and answers in
// the same shape, headers and error bodies.

import type { HttpCore } from '../http/core.js';
import type { ProxyEvent, ProxyResult } from './events.js';
import { principalFromEvent } from './principal.js';

/** A header by name, whatever its case (REST API events keep the client's case). */
function header(event: ProxyEvent, name: string): string | undefined {
  const multi = event.multiValueHeaders;
  if (multi) {
    for (const [k, v] of Object.entries(multi)) {
      if (k.toLowerCase() === name && v !== undefined) return v.join(',');
    }
  }
  for (const [k, v] of Object.entries(event.headers ?? {})) {
    if (k.toLowerCase() === name && v !== undefined) return v;
  }
  return undefined;
}

function rawBody(event: ProxyEvent): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
}

/** The event's query: repeated parameters as lists, so the core can refuse them by name. */
function queryOf(event: ProxyEvent): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const multi = event.multiValueQueryStringParameters ?? {};
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) {
    if (v === undefined) continue;
    const all = multi[k];
    out[k] = all && all.length > 1 ? all : v;
  }
  return out;
}

async function* once(body: Buffer): AsyncGenerator<Uint8Array> {
  if (body.length > 0) yield body;
}

/** A Lambda handler serving the core's operations. */
export function proxyHandler(core: HttpCore) {
  return async (event: ProxyEvent): Promise<ProxyResult> => {
    const requestId = event.requestContext?.requestId ?? '';
    let res;
    try {
      const op = core.resolve(event.httpMethod, event.resource);
      const body = rawBody(event);
      res = await core.handle(op, {
        requestId,
        params: event.pathParameters ?? {},
        query: queryOf(event),
        header: (name) => header(event, name),
        hasBody: body.length > 0,
        text: () => body.toString('utf8'),
        stream: () => once(body),
        context: () => ({
          requestId,
          sourceIp: event.requestContext.identity?.sourceIp ?? '',
          principal: principalFromEvent(event),
        }),
      });
    } catch (err) {
      res = core.error(requestId, err);
    }
    return { statusCode: res.status, headers: res.headers, body: res.body };
  };
}
