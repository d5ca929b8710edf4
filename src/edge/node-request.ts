// A fastify request as the HTTP core reads it (src/http/core.ts). A streamed
// body sends an awaited 100 Continue when first read (expect-continue.ts).

import type { FastifyRequest } from 'fastify';
import type { HttpRequest } from '../http/core.js';
import { callContext } from './call-context.js';
import { bodyAfterContinue } from './expect-continue.js';

export function nodeRequest(request: FastifyRequest): HttpRequest {
  const h = request.headers;
  return {
    requestId: request.id,
    params: request.params as Record<string, string>,
    query: request.query as Record<string, string | string[]>,
    header(name) {
      const v = h[name];
      return Array.isArray(v) ? v.join(',') : v;
    },
    hasBody:
      (h['content-length'] !== undefined && h['content-length'] !== '0') ||
      h['transfer-encoding'] !== undefined,
    text: () => (typeof request.body === 'string' ? request.body : ''),
    stream: () => bodyAfterContinue(request.raw, request.body as AsyncIterable<Uint8Array>),
    context: () => callContext(request),
  };
}
