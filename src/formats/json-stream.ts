// Shared streaming JSON reader for the JSON upload formats (SARIF, CycloneDX,
// native batch, Semgrep; Gitleaks and Nuclei `-je` have an array root), on
// @streamparser/json. Only the values at the requested paths are built (e.g.
// one SARIF result at a time) and dropped once handed over, so memory stays
// flat however long the arrays are. Keys that could poison prototypes
// (__proto__, constructor, prototype) are refused before the value is built,
// and errors name a byte offset, never the content.

import { Tokenizer, TokenParser, TokenType } from '@streamparser/json';
import { VaultError, type ErrorCode } from '../core/errors.js';
import type { FormatParser } from './format.js';

export type JsonKind = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export interface JsonStreamOptions {
  /** JSONPath-like selectors understood by @streamparser/json, e.g. `$.runs.*.results.*`. */
  paths: string[];
  /** path of the value (keys and indexes from the root) and the value itself */
  onValue(path: readonly (string | number)[], value: JsonValue): void;
  /** Top-level keys allowed; others are refused (undefined: any). */
  topLevelKeys?: ReadonlySet<string>;
  /**
   * The message refusing a top-level key not in topLevelKeys, given the key
   * and its value when that is a string (e.g. a `$schema` URL), so that it can
   * say what the document looks like instead. The message must not echo the
   * value, nor more of the key than clipKey gives.
   */
  unknownTopLevelKey?: (key: string, value: string | undefined) => string;
  /** The error code for a document that is not the expected shape. */
  shapeError: ErrorCode;
  what: string;
  /**
   * What the document's root must be: an object (the default) or an array
   * (Gitleaks, Nuclei `-je`: select its items with `$.*`).
   */
  root?: 'object' | 'array';
  /** Also accept a bare `null` root, read as no items (Gitleaks 7 writes it for no leak). */
  nullRoot?: boolean;
  /** Called with each top-level key of an object root and the kind of its value, before the value. */
  onTopLevelKey?: (key: string, kind: JsonKind) => void;
}

const POISON = new Set(['__proto__', 'constructor', 'prototype']);

export function jsonStreamParser(o: JsonStreamOptions): FormatParser {
  // Tokenizer and TokenParser wired as JSONParser wires them, with the key
  // checks in the one callback between them: JSONParser's onToken adds a
  // closure call per token, and tokens are most of the cost (a 100 MB SARIF
  // log has about 12 million).
  const tokenizer = new Tokenizer({ stringBufferSize: 64 * 1024 });
  const tokenParser = new TokenParser({ paths: o.paths, keepStack: false });
  let offset = 0;
  let depth = 0;
  // The value of the last string token. In valid JSON a COLON always follows
  // its key's string token directly (and at the key's depth), so at a COLON
  // this is the key; invalid JSON is refused by the token parser.
  let lastString = '';
  // The first token, a top-level key whose value's kind onTopLevelKey waits
  // for, or an unknown top-level key (see unknownTopLevelKey) are handled off
  // the hot path: `watch` is set while one of them is pending.
  let sawFirst = false;
  let watch = true;
  let unknownKey: string | undefined;
  let topKey: string | undefined;
  const refuseKey = (key: string, value: string | undefined): never => {
    throw new VaultError(
      o.shapeError,
      o.unknownTopLevelKey?.(key, value) ??
        `${o.what} has an unknown top-level property; allowed: ${[...(o.topLevelKeys ?? [])].join(', ')}`,
    );
  };
  const watched = (token: TokenType, value: unknown): void => {
    watch = false;
    if (topKey !== undefined) {
      o.onTopLevelKey?.(topKey, kindOf(token));
      topKey = undefined;
    }
    if (unknownKey !== undefined) {
      refuseKey(unknownKey, token === TokenType.STRING ? (value as string) : undefined);
    }
    if (!sawFirst) {
      sawFirst = true;
      const array = o.root === 'array';
      if (
        token !== (array ? TokenType.LEFT_BRACKET : TokenType.LEFT_BRACE) &&
        !(o.nullRoot === true && token === TokenType.NULL)
      ) {
        throw new VaultError(
          o.shapeError,
          `${o.what} must be a JSON ${array ? 'array' : 'object'}; nothing was stored`,
        );
      }
    }
  };
  const onKey = (key: string): void => {
    if (POISON.has(key)) {
      throw new VaultError(
        'invalid_json',
        'request body contains a forbidden key (__proto__, constructor or prototype); nothing was stored',
      );
    }
    if (depth !== 1 || o.root === 'array') return;
    if (o.onTopLevelKey) {
      topKey = key;
      watch = true;
    }
    if (o.topLevelKeys && !o.topLevelKeys.has(key)) {
      if (!o.unknownTopLevelKey) refuseKey(key, undefined);
      unknownKey = key;
      watch = true;
    }
  };

  tokenizer.onToken = (t) => {
    const token = t.token;
    if (watch) watched(token, t.value);
    switch (token) {
      case TokenType.STRING:
        lastString = t.value as string;
        break;
      case TokenType.COLON: {
        // Only 9- and 11-character keys can be one of POISON.
        const n = lastString.length;
        if (n === 9 || n === 11 || depth === 1) onKey(lastString);
        break;
      }
      case TokenType.LEFT_BRACE:
      case TokenType.LEFT_BRACKET:
        depth++;
        break;
      case TokenType.RIGHT_BRACE:
      case TokenType.RIGHT_BRACKET:
        depth--;
        break;
      default:
    }
    tokenParser.write(t);
  };
  tokenizer.onEnd = () => {
    if (!tokenParser.isEnded) tokenParser.end();
  };
  tokenParser.onError = tokenizer.error.bind(tokenizer);
  tokenParser.onEnd = () => {
    if (!tokenizer.isEnded) tokenizer.end();
  };
  tokenParser.onValue = ({ value, key, stack }) => {
    const path: (string | number)[] = [];
    for (let i = 1; i < stack.length; i++) {
      const k = stack[i]?.key;
      if (k !== undefined) path.push(k);
    }
    if (key !== undefined) path.push(key);
    o.onValue(path, value as JsonValue);
  };
  tokenizer.onError = (err) => {
    if (err instanceof VaultError) throw err;
    const at = /position "(\d+)"/.exec(err.message)?.[1];
    throw new VaultError(
      'invalid_json',
      `${o.what} is not valid JSON${at !== undefined ? ` (at byte ${offset + Number(at)})` : ''}; nothing was stored`,
    );
  };

  // @streamparser/json (0.0.22) rebuilds a UTF-8 character split between two
  // chunks, but not one split across three (a 3- or 4-byte character whose
  // middle chunk is a single byte): it then reports a spurious error. So the
  // bytes of a character left incomplete at the end of a chunk are held back
  // and written with the next one; the tokenizer never sees a split in more
  // than two.
  let held: Buffer | undefined;
  const feed = (chunk: Uint8Array): void => {
    tokenizer.write(chunk);
    offset += chunk.byteLength;
  };

  return {
    write(input) {
      let chunk: Uint8Array = input;
      if (held !== undefined) {
        chunk = Buffer.concat([held, chunk]);
        held = undefined;
      }
      const keep = incompleteTail(chunk);
      if (keep > 0) {
        held = Buffer.from(chunk.subarray(chunk.byteLength - keep));
        chunk = chunk.subarray(0, chunk.byteLength - keep);
      }
      if (chunk.byteLength > 0) feed(chunk);
    },
    end() {
      if (held !== undefined) {
        // A document ending inside a character: the tokenizer refuses it as
        // it refuses any truncated string.
        const last = held;
        held = undefined;
        feed(last);
      }
      if (unknownKey !== undefined) refuseKey(unknownKey, undefined);
      if (!sawFirst) throw new VaultError('invalid_json', `${o.what} is empty; nothing was stored`);
      if (!(tokenizer.isEnded && tokenParser.isEnded)) {
        throw new VaultError(
          'invalid_json',
          `${o.what} ends before the JSON document does (truncated?); nothing was stored`,
        );
      }
      // The document closed already (the parser ends itself there); calling
      // tokenizer.end() now would report a spurious error.
    },
  };
}

/**
 * How many bytes at the end of `b` start a UTF-8 character that the chunk
 * does not finish (0 to 3). Only lead bytes and their continuation bytes are
 * looked at; invalid sequences are left to the tokenizer.
 */
export function incompleteTail(b: Uint8Array): number {
  const n = b.byteLength;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const c = b[n - back]!;
    if ((c & 0xc0) === 0x80) continue; // continuation byte: look further back
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

function kindOf(token: TokenType): JsonKind {
  switch (token) {
    case TokenType.LEFT_BRACE:
      return 'object';
    case TokenType.LEFT_BRACKET:
      return 'array';
    case TokenType.STRING:
      return 'string';
    case TokenType.NUMBER:
      return 'number';
    case TokenType.TRUE:
    case TokenType.FALSE:
      return 'boolean';
    default:
      return 'null';
  }
}

/** A key as it may appear in a message: at most 40 characters of [A-Za-z0-9 $_.:@-], others as '?'. */
export function clipKey(key: string): string {
  const safe = key.replace(/[^A-Za-z0-9 $_.:@-]/g, '?');
  return safe.length > 40 ? `${safe.slice(0, 40)}…` : safe;
}

export function isObject(v: JsonValue | undefined): v is { [k: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(v: JsonValue | undefined): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}
