// Requests Node's parser lets through that RFC 9112 does not allow: a request
// line without an HTTP version (llhttp calls it HTTP/0.9 and still parses a
// header section after it), and a Host header that is missing from an
// HTTP/1.1 request or given more than once (§3.2: both must be answered 400;
// Node keeps the first of two and serves the request). Node's own
// missing-Host answer is turned off (limits.ts) so that every one of these
// gets the error body and security headers of any other refusal.

import type { IncomingMessage } from 'node:http';

export const VERSIONLESS = 'the request line has no HTTP version (HTTP/0.9 is not served)';

/** Why the request's framing is refused, or undefined. */
export function framingError(raw: IncomingMessage): string | undefined {
  if (raw.httpVersionMajor < 1) return VERSIONLESS;
  let hosts = 0;
  const h = raw.rawHeaders;
  for (let i = 0; i < h.length; i += 2) {
    if (h[i]?.toLowerCase() === 'host') hosts++;
  }
  if (hosts > 1) return 'the request carries more than one Host header';
  if (hosts === 0 && raw.httpVersionMajor === 1 && raw.httpVersionMinor >= 1) {
    return 'an HTTP/1.1 request must carry a Host header';
  }
  return undefined;
}
