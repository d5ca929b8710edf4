// Opaque page cursors for finding queries. A cursor carries the last ordering
// key and a tag of the org and filters it was made for, so it cannot be
// replayed on another org or with other filters.

import { createHash } from 'node:crypto';
import { VaultError } from '../../core/errors.js';

function tag(scope: string): string {
  return createHash('sha256').update(scope).digest('base64url').slice(0, 12);
}

export function encodeQueryCursor(scope: string, seq: number): string {
  return Buffer.from(`q1:${tag(scope)}:${seq}`).toString('base64url');
}

export function decodeQueryCursor(scope: string, cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const m = /^q1:([A-Za-z0-9_-]{12}):(\d{1,15})$/.exec(
    Buffer.from(cursor, 'base64url').toString('utf8'),
  );
  if (!m || m[1] !== tag(scope)) {
    throw new VaultError(
      'invalid_cursor',
      'cursor is not valid for this query; pass the "next" value of the previous page with the same filters',
    );
  }
  return Number(m[2]);
}
