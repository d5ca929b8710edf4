// Shared streaming JSON reader for the JSON upload formats (SARIF, CycloneDX,
// native batch, Semgrep; Gitleaks and Nuclei `-je` have an array root), on
// @streamparser/json. Only the values at the requested paths are built (e.g.
// one SARIF result at a time) and dropped once handed over, so memory stays
// flat however long the arrays are. Keys that could poison prototypes
// (__proto__, constructor, prototype) are refused before the value is built,
// and errors name a byte offset, never the content.

import { JSONParser, TokenType } from '@streamparser/json';
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
  const parser = new JSONParser({ paths: o.paths, keepStack: false, stringBufferSize: 64 * 1024 });
  let offset = 0;
  let depth = 0;
  let sawFirst = false;
  let prevString: string | undefined;
  let prevDepth = 0;
  // An unknown top-level key whose value is still to come (see unknownTopLevelKey).
  let unknownKey: string | undefined;
  // A top-level key whose value's kind onTopLevelKey is waiting for.
  let topKey: string | undefined;
  const refuseKey = (key: string, value: string | undefined): never => {
    throw new VaultError(
      o.shapeError,
      o.unknownTopLevelKey?.(key, value) ??
        `${o.what} has an unknown top-level property; allowed: ${[...(o.topLevelKeys ?? [])].join(', ')}`,
    );
  };

  parser.onToken = ({ token, value }) => {
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
    if (token === TokenType.COLON && prevString !== undefined) {
      if (POISON.has(prevString)) {
        throw new VaultError(
          'invalid_json',
          'request body contains a forbidden key (__proto__, constructor or prototype); nothing was stored',
        );
      }
      if (prevDepth === 1 && o.root !== 'array' && o.onTopLevelKey) topKey = prevString;
      if (o.topLevelKeys && prevDepth === 1 && !o.topLevelKeys.has(prevString)) {
        if (o.unknownTopLevelKey) {
          unknownKey = prevString;
          return;
        }
        refuseKey(prevString, undefined);
      }
    }
    if (token === TokenType.LEFT_BRACE || token === TokenType.LEFT_BRACKET) depth++;
    else if (token === TokenType.RIGHT_BRACE || token === TokenType.RIGHT_BRACKET) depth--;
    prevString = token === TokenType.STRING ? (value as string) : undefined;
    prevDepth = depth;
  };
  parser.onValue = ({ value, key, stack }) => {
    const path: (string | number)[] = [];
    for (let i = 1; i < stack.length; i++) {
      const k = stack[i]?.key;
      if (k !== undefined) path.push(k);
    }
    if (key !== undefined) path.push(key);
    o.onValue(path, value as JsonValue);
  };
  parser.onError = (err) => {
    if (err instanceof VaultError) throw err;
    const at = /position "(\d+)"/.exec(err.message)?.[1];
    throw new VaultError(
      'invalid_json',
      `${o.what} is not valid JSON${at !== undefined ? ` (at byte ${offset + Number(at)})` : ''}; nothing was stored`,
    );
  };
  parser.onEnd = () => undefined;

  return {
    write(chunk) {
      parser.write(chunk);
      offset += chunk.byteLength;
    },
    end() {
      if (unknownKey !== undefined) refuseKey(unknownKey, undefined);
      if (!sawFirst) throw new VaultError('invalid_json', `${o.what} is empty; nothing was stored`);
      if (!parser.isEnded) {
        throw new VaultError(
          'invalid_json',
          `${o.what} ends before the JSON document does (truncated?); nothing was stored`,
        );
      }
      // The document closed already (the parser ends itself there); calling
      // parser.end() now would report a spurious error.
    },
  };
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
