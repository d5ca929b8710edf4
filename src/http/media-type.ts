// CSH 1.1: a request body must have one of the media types its operation
// declares in the contract, in UTF-8 when a charset is named; anything else
// is 415 before a byte of the body is read.

import { VaultError } from '../core/errors.js';
import type { RouteDef } from '../contract/routes.js';

export interface MediaType {
  type: string;
  charset?: string;
}

export function parseMediaType(header: string | undefined): MediaType | undefined {
  if (!header) return undefined;
  const [type, ...params] = header.split(';');
  const charset = params
    .map((p) => p.trim().toLowerCase())
    .find((p) => p.startsWith('charset='))
    ?.slice(8)
    .replace(/"/g, '');
  return { type: (type ?? '').trim().toLowerCase(), ...(charset ? { charset } : {}) };
}

/**
 * The body's media type (lower case, no parameters), or undefined for a
 * request without a body on a route whose body is optional. Throws 415.
 */
export function checkMediaType(
  route: RouteDef,
  contentType: string | undefined,
  hasBody: boolean,
): string | undefined {
  const types = route.mediaTypes;
  if (types.length === 0) return undefined;
  const mt = parseMediaType(contentType);
  if (!mt && !hasBody && !route.bodyRequired) return undefined;
  const ok =
    mt !== undefined &&
    types.includes(mt.type) &&
    (mt.charset === undefined || mt.charset === 'utf-8' || mt.charset === 'utf8');
  if (!ok) {
    throw new VaultError(
      'unsupported_media_type',
      `Content-Type must be ${types.join(' or ')}${mt?.charset ? ' (UTF-8)' : ''}`,
    );
  }
  return mt.type;
}
