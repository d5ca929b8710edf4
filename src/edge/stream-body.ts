// Streaming request bodies for scan uploads. Routes marked
// `x-vulnvault-stream-body` in the contract are registered in their own
// encapsulated context whose content-type parsers hand the handler the raw
// request stream (no buffering, so fastify's bodyLimit does not apply: the
// ingest function counts bytes itself against the upload limit). The media
// types are the route's, from the contract; anything else is 415 as usual.

import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { VaultError } from '../core/errors.js';

export function registerStreamRoute(
  app: FastifyInstance,
  route: RouteOptions,
  mediaTypes: readonly string[],
): void {
  void app.register(async (child) => {
    child.removeAllContentTypeParsers();
    child.addContentTypeParser([...mediaTypes], (_request, payload, done) => done(null, payload));
    child.route(route);
  });
}

/**
 * When an upload is refused before its body was read (403, 409, 413, a parse
 * error), the rest of a possibly huge body is not parsed: it is discarded,
 * and once the answer is out the connection lingers briefly and is closed
 * (body-deadline.ts does that for every answer given before its body).
 */
export function closeIfUnread(request: FastifyRequest): void {
  const req = request.raw;
  if (!req.complete) req.resume();
}

/**
 * 413 before a byte is read when an upload declares a Content-Length over the
 * cap (the count while streaming still applies: chunked uploads declare none),
 * so such a request is never told 100 Continue (expect-continue.ts).
 */
export function refuseDeclaredOverLimit(contentLength: string | undefined, limit: number): void {
  if (contentLength !== undefined && Number(contentLength) > limit) {
    throw new VaultError(
      'payload_too_large',
      `the upload exceeds the limit of ${limit} bytes; nothing was stored`,
    );
  }
}
