// A feed file the operator gave cannot be imported. Its message is one line
// for the operator: which feed, which file (its name only), where (line or
// JSON path) and what is wrong, never more than a short quote of the content.
// The command line prints it as is (src/cli/main.ts). The HTTP API never
// raises it: feeds are imported by the CLI only.

export type FeedErrorCode = 'feed_invalid' | 'feed_unreadable';

export class FeedError extends Error {
  constructor(
    readonly code: FeedErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'FeedError';
  }
}

const QUOTE_MAX = 40;

/** A value as it may appear in a message: JSON-quoted, control characters escaped, clipped. */
export function quote(value: unknown): string {
  let s: string;
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') s = JSON.stringify(value);
  else if (typeof value === 'number' || typeof value === 'boolean') s = String(value);
  else if (value === null) s = 'null';
  else return Array.isArray(value) ? 'an array' : `a value of type ${typeof value}`;
  return s.length > QUOTE_MAX ? `${s.slice(0, QUOTE_MAX)}…` : s;
}
