// Errors raised before the core runs (the request guard's refusals, fastify's
// body reading: 413, bad JSON framing) get the core's error body (CSH 1.3):
// fastify's own errors are first translated to the catalog; anything else is
// the core's generic 500.

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isVaultError, VaultError, type ErrorCode } from '../core/errors.js';
import type { HttpCore } from '../http/core.js';

function translate(
  err: FastifyError,
  bodyLimit: number,
): { code: ErrorCode; message: string } | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return {
        code: 'payload_too_large',
        message: `request body exceeds the limit of ${bodyLimit} bytes`,
      };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'unsupported_media_type', message: 'unsupported Content-Type for this route' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'invalid_json', message: 'request body is empty' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { code: 'bad_request', message: 'Content-Length does not match the body' };
  }
  if (err instanceof SyntaxError || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return /prototype|constructor/i.test(err.message)
      ? {
          code: 'invalid_json',
          message: 'request body contains a forbidden key (__proto__ or constructor.prototype)',
        }
      : { code: 'invalid_json', message: 'request body is not valid JSON' };
  }
  if (err.statusCode === 413)
    return { code: 'payload_too_large', message: 'request body too large' };
  if (err.statusCode === 415)
    return { code: 'unsupported_media_type', message: 'unsupported Content-Type' };
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
    return { code: 'bad_request', message: 'the request could not be processed' };
  }
  return undefined;
}

export function createErrorHandler(core: HttpCore, bodyLimit: number) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const t = isVaultError(err) ? undefined : translate(err, bodyLimit);
    const res = core.error(request.id, t ? new VaultError(t.code, t.message) : err);
    return reply.code(res.status).headers(res.headers).send(res.body);
  };
}
