// Document ids derived from content: a name-based UUID (version 5, RFC 4122
// §4.3) of the document as serialized without its id. The same statements,
// options and clock give the same document byte for byte (a retried or cached
// export is identical; a consumer can tell a repeat from a new issue), while
// any change, the timestamp included, gives a new id. Hashing the rendered
// document, not the inputs, keeps what it leaves out (comments without
// includeComments, principals, finding ids) out of the id too: a hash of
// short free text could otherwise be confirmed by guessing.

import { createHash } from 'node:crypto';

/** vulnvault's namespace for VEX document ids (a fixed random UUID). */
const NAMESPACE = Buffer.from('5f0c2a4e9b7d4c1e8a3f6d2b1c0e9a47', 'hex');

/** `urn:uuid:` + a version-5 UUID of `kind`, `seed` and `content`. */
export function contentUrn(kind: string, seed: string, content: string): string {
  const h = createHash('sha1')
    .update(NAMESPACE)
    .update(JSON.stringify([kind, seed, content]), 'utf8')
    .digest();
  h[6] = (h[6]! & 0x0f) | 0x50; // version 5
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const x = h.subarray(0, 16).toString('hex');
  return `urn:uuid:${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
