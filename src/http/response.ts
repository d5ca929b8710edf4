// What both runtimes send: a status, the headers every response carries
// (content type, request id, the security headers) and a serialised body.

import { SECURITY_HEADERS } from './security-headers.js';

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

export function jsonResponse(
  requestId: string,
  status: number,
  body: string,
  extra?: Readonly<Record<string, string>>,
): HttpResponse {
  return {
    status,
    headers: {
      'content-type': JSON_CONTENT_TYPE,
      'x-request-id': requestId,
      ...SECURITY_HEADERS,
      ...extra,
    },
    body,
  };
}
