// RFC 7512 `pkcs11:` URIs naming a key in a token, as written in the config:
//   pkcs11:token=vulnvault;object=ca-key?module-path=/usr/lib/softhsm/libsofthsm2.so
// Path attributes (`;`): token, object, id, serial, manufacturer, model, type.
// Query attributes (`&`): module-path, pin-source (a file holding the PIN).
// `pin-value` is refused: a PIN is never written in the config in clear; it
// comes from pin-source or the environment (VULNVAULT_PKCS11_PIN).

import { TokenError } from './token-error.js';

export interface Pkcs11Uri {
  token: string;
  object: string;
  id?: Buffer;
  serial?: string;
  manufacturer?: string;
  model?: string;
  type?: string;
  modulePath?: string;
  pinSource?: string;
  /** The URI without its query: the stable name of the key (stored as a KEK id). */
  name: string;
}

const PATH_ATTRS = new Set(['token', 'object', 'id', 'serial', 'manufacturer', 'model', 'type']);
const QUERY_ATTRS = new Set(['module-path', 'pin-source', 'module-name']);

export function isPkcs11Uri(text: string): boolean {
  return /^pkcs11:/i.test(text);
}

function decode(uri: string, value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new TokenError(`the PKCS#11 URI '${redact(uri)}' has a malformed %-escape`);
  }
}

/** Shows a URI in a message with any pin-value removed. */
export function redact(uri: string): string {
  return uri.replace(/([?&]pin-value=)[^&]*/gi, '$1(removed)');
}

export function parsePkcs11Uri(uri: string): Pkcs11Uri {
  if (!isPkcs11Uri(uri)) throw new TokenError(`'${redact(uri)}' is not a pkcs11: URI (RFC 7512)`);
  const rest = uri.slice('pkcs11:'.length);
  const q = rest.indexOf('?');
  const pathPart = q < 0 ? rest : rest.slice(0, q);
  const queryPart = q < 0 ? '' : rest.slice(q + 1);
  const out: Partial<Pkcs11Uri> = {};
  for (const item of pathPart.split(';')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const k = eq < 0 ? item : item.slice(0, eq);
    const v = decode(uri, eq < 0 ? '' : item.slice(eq + 1));
    if (!PATH_ATTRS.has(k)) {
      throw new TokenError(`the PKCS#11 URI '${redact(uri)}' has an unknown attribute '${k}'`);
    }
    if (k === 'id') out.id = Buffer.from(v, 'latin1');
    else (out as Record<string, string>)[k] = v;
  }
  for (const item of queryPart.split('&')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const k = eq < 0 ? item : item.slice(0, eq);
    const v = decode(uri, eq < 0 ? '' : item.slice(eq + 1));
    if (k === 'pin-value') {
      throw new TokenError(
        `the PKCS#11 URI '${redact(uri)}' holds a pin-value: a PIN is never kept in the config; use pin-source=file:… or VULNVAULT_PKCS11_PIN`,
      );
    }
    if (!QUERY_ATTRS.has(k)) {
      throw new TokenError(
        `the PKCS#11 URI '${redact(uri)}' has an unknown query attribute '${k}'`,
      );
    }
    if (k === 'module-path') out.modulePath = v;
    if (k === 'pin-source') out.pinSource = v.replace(/^file:(\/\/)?/, '');
  }
  if (!out.token) {
    throw new TokenError(`the PKCS#11 URI '${redact(uri)}' must name its token (token=…)`);
  }
  if (!out.object) {
    throw new TokenError(`the PKCS#11 URI '${redact(uri)}' must name its key (object=…)`);
  }
  return { ...(out as Pkcs11Uri), name: `pkcs11:${pathPart}` };
}

/**
 * The URI of key `object` on the token a base URI names
 * (`pkcs11:token=vulnvault?module-path=…` + `ca` → `pkcs11:token=vulnvault;object=ca?module-path=…`).
 */
export function keyUriOn(base: string, object: string): string {
  if (!isPkcs11Uri(base)) throw new TokenError(`'${redact(base)}' is not a pkcs11: URI (RFC 7512)`);
  const q = base.indexOf('?');
  const path = (q < 0 ? base : base.slice(0, q)).replace(/;object=[^;?]*/, '');
  const query = q < 0 ? '' : base.slice(q);
  const uri = `${path.replace(/;$/, '')};object=${encodeURIComponent(object)}${query}`;
  parsePkcs11Uri(uri);
  return uri;
}
