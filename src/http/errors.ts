// CSH 1.3: every error leaves as the catalog's body — a stable code, its
// status and a safe message. Anything that is not a catalog error is
// reported to the runtime's log with the request id and answered with a
// generic 500; nothing internal reaches the response.

import { ERROR_STATUS, isVaultError, type ErrorBody } from '../core/errors.js';
import { jsonResponse, type HttpResponse } from './response.js';

/** Where a runtime logs errors (5xx catalog errors and unexpected ones). */
export type ErrorReporter = (requestId: string, err: unknown) => void;

export function errorResponse(
  requestId: string,
  err: unknown,
  report: ErrorReporter,
): HttpResponse {
  if (isVaultError(err)) {
    if (err.statusCode >= 500) report(requestId, err);
    const body: ErrorBody = { code: err.code, message: err.message, requestId };
    return jsonResponse(requestId, err.statusCode, JSON.stringify(body));
  }
  report(requestId, err);
  const body: ErrorBody = {
    code: 'internal_error',
    message: 'internal error; quote the request id when reporting it',
    requestId,
  };
  return jsonResponse(requestId, ERROR_STATUS.internal_error, JSON.stringify(body));
}

/** Error chain summary for internal logs: names, codes, messages; no data. */
export function describeCause(err: unknown): unknown {
  if (!(err instanceof Error)) return err === undefined ? undefined : typeof err;
  const e = err as Error & { code?: unknown };
  return { name: e.name, code: e.code, message: e.message, cause: describeCause(e.cause) };
}
