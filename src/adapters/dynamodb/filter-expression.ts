// The server-side prefilter of a findings query (CSH 1.4). Expression text
// is assembled only from the constant fragments below, chosen by which
// filters are present; attribute names come from this allow-list and every
// input value is an ExpressionAttributeValue. The prefilter accepts an item
// when its top-level version or its staged version (`stg`) matches, so it
// never drops a finding a reader should see; matches() then decides exactly.
// (q, the case-insensitive title search, has no DynamoDB equivalent and is
// applied by matches() alone.) Triage items ("F#<seq>#T", kind T) always
// pass: the reader pairs them with their findings.

import type { FindingFilter } from '../../core/ports.js';
import { TRIAGE_KIND } from './finding-item.js';

export interface FilterExpression {
  expression: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
}

const NAMES = {
  '#sev': 'severity',
  '#st': 'status',
  '#cves': 'cves',
  '#asset': 'asset',
  '#ls': 'lastSeen',
  '#stg': 'stg',
  '#kind': 'kind',
} as const;

/** Conditions on one version: prefix '' (top level) or '#stg.' (staged). */
function conditions(f: FindingFilter, prefix: '' | '#stg.', sevCount: number): string[] {
  const c: string[] = [];
  if (sevCount > 0) {
    const list = Array.from({ length: sevCount }, (_, i) => `:sev${i}`).join(', ');
    c.push(`${prefix}#sev IN (${list})`);
  }
  if (f.status !== undefined) c.push(`${prefix}#st = :st`);
  if (f.cve !== undefined) c.push(`contains(${prefix}#cves, :cve)`);
  if (f.asset !== undefined) c.push(`#asset = :asset`); // identity: never staged
  if (f.since !== undefined) c.push(`${prefix}#ls >= :since`);
  return c;
}

/** undefined when no filter can run server-side. */
export function findingsPrefilter(f: FindingFilter): FilterExpression | undefined {
  const severities = [...new Set(f.severity ?? [])];
  const top = conditions(f, '', severities.length);
  if (top.length === 0) return undefined;
  const staged = conditions(f, '#stg.', severities.length);
  const values: Record<string, unknown> = {};
  severities.forEach((s, i) => (values[`:sev${i}`] = s));
  if (f.status !== undefined) values[':st'] = f.status;
  if (f.cve !== undefined) values[':cve'] = f.cve;
  if (f.asset !== undefined) values[':asset'] = f.asset;
  if (f.since !== undefined) values[':since'] = f.since;
  values[':tkind'] = TRIAGE_KIND;
  const expression = `(${top.join(' AND ')}) OR (attribute_exists(#stg) AND ${staged.join(' AND ')}) OR #kind = :tkind`;
  const names: Record<string, string> = {};
  // DynamoDB rejects unused names; `#st\b` must not match inside `#stg`.
  for (const [k, v] of Object.entries(NAMES))
    if (new RegExp(`${k}\\b`).test(expression)) names[k] = v;
  return { expression, names, values };
}
