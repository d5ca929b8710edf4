// JSON request bodies: parsed without prototype pollution (secure-json-parse),
// and a failure keeps its reason (syntax error and where, or a forbidden
// __proto__ / constructor.prototype key) without echoing any of the body.

import sjson from 'secure-json-parse';
import { VaultError } from '../core/errors.js';

/** Parses a JSON request body; VaultError invalid_json with the reason, never the body. */
export function parseJsonText(text: string): unknown {
  if (text.length === 0) throw new VaultError('invalid_json', 'request body is empty');
  try {
    return sjson.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (err) {
    const msg = (err as Error).message;
    if (/prototype/i.test(msg)) {
      throw new VaultError(
        'invalid_json',
        'request body contains a forbidden key (__proto__ or constructor.prototype)',
      );
    }
    const at = /position (\d+)/.exec(msg)?.[1];
    throw new VaultError(
      'invalid_json',
      `request body is not valid JSON${at ? ` (at byte ${at})` : ''}`,
    );
  }
}
