// Requests the HTTP parser refuses before fastify sees them: malformed or
// smuggling-shaped framing (Content-Length with Transfer-Encoding), headers
// over the size limit, and requests that time out while their headers or
// body trickle in (slowloris, slow body). Each gets the error shape and the
// security headers of every other response, is written to the access log,
// and its connection is closed: after a framing error nothing more on that
// connection can be trusted.

import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ERROR_STATUS, type ErrorCode } from '../core/errors.js';
import { socketUsage, type AccessLog } from './access-log.js';
import { SECURITY_HEADERS } from '../http/security-headers.js';

function classify(err: Error & { code?: string }): { code: ErrorCode; message: string } {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 'request_timeout', message: 'the request was not received in time' };
    case 'HPE_HEADER_OVERFLOW':
      return { code: 'headers_too_large', message: 'request headers exceed the size limit' };
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return {
        code: 'bad_request',
        message: 'conflicting or invalid Content-Length / Transfer-Encoding',
      };
    default:
      return { code: 'bad_request', message: 'malformed HTTP request' };
  }
}

const FIXED_HEADERS = Object.entries(SECURITY_HEADERS)
  .map(([k, v]) => `${k}: ${v}\r\n`)
  .join('');

/**
 * Answers `code` on a socket no HTTP response is being written on, logs it,
 * and closes the connection (after a framing error nothing more on it can be
 * trusted). Also used for request lines refused before the parser
 * (first-request-line.ts).
 */
export function refuseConnection(
  socket: Socket,
  accessLog: AccessLog,
  code: ErrorCode,
  message: string,
): void {
  const status = ERROR_STATUS[code];
  const requestId = randomUUID();
  const tls = socket as TLSSocket;
  const usage = socketUsage(tls);
  accessLog.write({
    time: new Date().toISOString(),
    requestId,
    sourceIp: socket.remoteAddress ?? '',
    clientIp: socket.remoteAddress ?? '',
    principal: null,
    method: '-',
    route: null,
    path: '-',
    status,
    bytesIn: usage.bytesIn,
    bytesOut: 0,
    latencyMs: 0,
    tlsVersion: usage.tlsVersion,
    cipher: usage.cipher,
    error: code,
  });
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ code, message, requestId });
  const head =
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    `connection: close\r\ncontent-type: application/json; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\n` +
    FIXED_HEADERS +
    '\r\n';
  const timer = setTimeout(() => socket.destroy(), 2000);
  timer.unref();
  socket.end(head + body, () => {
    clearTimeout(timer);
    socket.destroy();
  });
}

export function createClientErrorHandler(accessLog: AccessLog) {
  return (err: Error & { code?: string }, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const { code, message } = classify(err);
    refuseConnection(socket, accessLog, code, message);
  };
}
