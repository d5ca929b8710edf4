// Streaming request bodies for scan uploads. Routes marked
// `x-vulnvault-stream-body` in the contract are registered in their own
// encapsulated context whose content-type parsers hand the handler the raw
// request stream (no buffering, so fastify's bodyLimit does not apply: the
// ingest function counts bytes itself against the upload limit). The media
// types are the route's, from the contract; anything else is 415 as usual.

import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { loadOpenApi, deref, type OpenApiDoc } from './openapi.js';
import { compileValidator } from './validation.js';
import type { ItemValidator } from '../formats/native-json.js';
import { FORMAT_BY_MEDIA_TYPE, type ScanFormat } from '../formats/format.js';
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

/** The upload format selected by the request's media type (the edge already refused others). */
export function scanFormatOf(request: FastifyRequest): ScanFormat {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const format = FORMAT_BY_MEDIA_TYPE[type];
  if (!format) throw new VaultError('unsupported_media_type', 'unsupported Content-Type');
  return format;
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

/** Validator for one native-batch finding, from the contract's NativeFinding schema. */
export function nativeFindingValidator(doc: OpenApiDoc = loadOpenApi()): ItemValidator {
  const schema = deref(doc, doc.components.schemas.NativeFinding ?? {}) as object;
  const check = compileValidator(schema, 'body');
  return (item, index) => {
    const r = check(item);
    if (r === true) return undefined;
    return r.error.message.replace(/^body/, `findings[${index}]`);
  };
}
