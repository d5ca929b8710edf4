// Headers on every response, errors included (200, 4xx, 429, 5xx and the
// parser-level 400/408/431): no caching of data, no MIME sniffing, HTTPS only.
// Fastify sends no X-Powered-By, and nothing here adds one.
export const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
} as const;
