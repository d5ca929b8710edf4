// Opaque page cursors (GET /vuln and GET /v1/orgs/{org}/findings). A cursor
// carries the last ordering key and an HMAC-SHA-256 tag under a server
// secret (CursorKeys) over everything it is valid for: which listing, the
// org, the filters and the caller's principal type (ou / client / iam). So a
// client can neither forge one nor replay it on another org, with other
// filters, or with another kind of credential; authorization still decides
// what is read, the cursor only says where to resume.
//
//   cursor = base64url("q2:" seq ":" base64url(HMAC(key, binding + seq)))
//
// Version q2 replaced the unkeyed SHA-256 tags of q1 (findings) and v1
// (/vuln): those, like anything else that does not verify, are refused with
// invalid_cursor. A cursor verifies under the current key or a previous one
// still in its grace period; tags are compared in constant time.

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { CursorKeys } from '../../core/cursor-keys.js';
import { VaultError } from '../../core/errors.js';
import type { PrincipalType } from '../../core/principal.js';

export type CursorListing = 'vuln' | 'findings' | 'history';

/** What a cursor is bound to; a cursor made for one binding is refused for any other. */
export interface CursorBinding {
  listing: CursorListing;
  org: string;
  principalType: PrincipalType;
  /** The normalized filters (JSON-serializable), or null when the listing has none. */
  filters: unknown;
}

const VERSION = 'q2';
const TEXT = /^q2:(\d{1,16}(?:\.\d{1,16})?):([A-Za-z0-9_-]{43})$/;
const MAX_CURSOR_CHARS = 200;

const HINT: Record<CursorListing, string> = {
  vuln: 'pass the "next" value of the previous page unchanged',
  findings: 'pass the "next" value of the previous page with the same filters',
  history: 'pass the "next" value of the previous page of this finding\'s history',
};

/** base64url of the tag: 43 characters. */
function tag(key: Uint8Array, b: CursorBinding, seq: string): string {
  // One JSON array: no two bindings serialize to the same bytes.
  const data = JSON.stringify([VERSION, b.listing, b.principalType, b.org, b.filters, seq]);
  return createHmac('sha256', key).update(data).digest('base64url');
}

function invalid(b: CursorBinding): VaultError {
  return new VaultError('invalid_cursor', `cursor is not valid for this query; ${HINT[b.listing]}`);
}

export function encodeCursor(keys: CursorKeys, b: CursorBinding, seq: number): string {
  const s = String(seq);
  const t = tag(keys.keys().current, b, s);
  return Buffer.from(`${VERSION}:${s}:${t}`).toString('base64url');
}

/** The ordering key to resume after (0 without a cursor); invalid_cursor unless it verifies. */
export function decodeCursor(
  keys: CursorKeys,
  b: CursorBinding,
  cursor: string | undefined,
): number {
  if (cursor === undefined) return 0;
  const pos = decodePosition(keys, b, cursor);
  if (pos.includes('.') || !Number.isSafeInteger(Number(pos))) throw invalid(b);
  return Number(pos);
}

/** The verified position text of a cursor ("seq" or "key.seq"). */
function decodePosition(keys: CursorKeys, b: CursorBinding, cursor: string): string {
  if (cursor.length > MAX_CURSOR_CHARS) throw invalid(b);
  const raw = Buffer.from(cursor, 'base64url');
  // Node's base64url decoder skips what it cannot read: accept only the
  // canonical spelling, so one cursor has exactly one text.
  if (raw.toString('base64url') !== cursor) throw invalid(b);
  const m = TEXT.exec(raw.toString('latin1'));
  if (!m) throw invalid(b);
  const seq = m[1] as string;
  // Compared as text: the tag's one spelling, not any that decodes alike.
  const given = Buffer.from(m[2] as string, 'latin1');
  const set = keys.keys();
  let ok = false;
  for (const key of [set.current, ...set.previous]) {
    // Every key is tried (no early exit); each comparison is constant-time.
    if (timingSafeEqual(Buffer.from(tag(key, b, seq), 'latin1'), given)) ok = true;
  }
  if (!ok) throw invalid(b);
  return seq;
}

/**
 * A cursor of a listing in another order than seq (sort=priority, sort=due):
 * the position is the last item's sort key and seq, "key.seq", under the same
 * tag. A cursor of one form is refused where the other is expected.
 */
export function encodeSortCursor(
  keys: CursorKeys,
  b: CursorBinding,
  at: number | { key: number; seq: number },
): string {
  if (typeof at === 'number') return encodeCursor(keys, b, at);
  const s = `${at.key}.${at.seq}`;
  const t = tag(keys.keys().current, b, s);
  return Buffer.from(`${VERSION}:${s}:${t}`).toString('base64url');
}

export function decodeSortCursor(
  keys: CursorKeys,
  b: CursorBinding,
  cursor: string | undefined,
  keyed: boolean,
): number | { key: number; seq: number } {
  if (cursor === undefined) return 0;
  const pos = decodePosition(keys, b, cursor);
  const [key, seq] = pos.split('.');
  if (keyed !== (seq !== undefined)) throw invalid(b);
  if (seq === undefined) return Number(key);
  const k = Number(key);
  const n = Number(seq);
  if (!Number.isSafeInteger(k) || !Number.isSafeInteger(n)) throw invalid(b);
  return { key: k, seq: n };
}
