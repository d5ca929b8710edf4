// Maps every error to the catalog (CSH 1.3): a stable code, the right status
// and a safe message. Framework errors are translated; anything unexpected is
// logged with the request id and answered with a generic 500.

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { isVaultError, type ErrorBody, type ErrorCode } from '../core/errors.js';
import { ERROR_STATUS } from '../core/errors.js';

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

export function createErrorHandler(logger: Logger, bodyLimit: number) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    let code: ErrorCode;
    let message: string;
    if (isVaultError(err)) {
      ({ code, message } = err);
      if (err.statusCode >= 500) {
        logger.error(
          { requestId: request.id, code, cause: describeCause(err.cause) },
          'request failed',
        );
      }
    } else {
      const t = translate(err, bodyLimit);
      if (t) {
        ({ code, message } = t);
      } else {
        code = 'internal_error';
        message = 'internal error; quote the request id when reporting it';
        logger.error({ requestId: request.id, err: describeCause(err) }, 'unexpected error');
      }
    }
    const body: ErrorBody = { code, message, requestId: request.id };
    return reply.code(ERROR_STATUS[code]).send(body);
  };
}

/** Error chain summary for internal logs: names, codes, messages; no data. */
function describeCause(err: unknown): unknown {
  if (!(err instanceof Error)) return err === undefined ? undefined : typeof err;
  const e = err as Error & { code?: unknown };
  return { name: e.name, code: e.code, message: e.message, cause: describeCause(e.cause) };
}
