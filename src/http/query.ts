// Query strings as the contract sees them: every parameter given once. Both
// transports hand over what they parsed (a repeated parameter as a list);
// a repetition is refused here, by name, before validation.

import { VaultError } from '../core/errors.js';
import { clip } from './validation.js';

export type RawQuery = Readonly<Record<string, string | readonly string[] | undefined>>;

export function singleValuedQuery(raw: RawQuery): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    if (typeof v === 'string') {
      out[k] = v;
      continue;
    }
    if (v.length > 1) {
      throw new VaultError(
        'validation_failed',
        `query parameter '${clip(k)}' was given ${v.length === 2 ? 'twice' : `${v.length} times`}; give it once`,
      );
    }
    if (v[0] !== undefined) out[k] = v[0];
  }
  return out;
}
