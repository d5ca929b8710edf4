// The reference demo's flat record, as accepted on POST /vuln and returned on
// GET /vuln. Stored as a finding (DESIGN.md §5); these are its wire names.

import { VaultError } from './errors.js';

export interface SeedRecord {
  VulnID: string;
  Org: string;
  AssetName: string;
  DueDate: string; // MM-DD-YYYY on the wire
  PluginId: number;
  PluginName: string;
  Priority: string;
}

/** MM-DD-YYYY → YYYY-MM-DD, or undefined when it is not a calendar date. */
export function parseDueDate(mmddyyyy: string): string | undefined {
  const m = /^(\d{2})-(\d{2})-(\d{4})$/.exec(mmddyyyy);
  if (!m) return undefined;
  const [, mm, dd, yyyy] = m as unknown as [string, string, string, string];
  const month = Number(mm);
  const day = Number(dd);
  const year = Number(yyyy);
  if (month < 1 || month > 12 || day < 1 || year < 1) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return undefined;
  return `${yyyy}-${mm}-${dd}`;
}

/** YYYY-MM-DD → MM-DD-YYYY. */
export function formatDueDate(iso: string): string {
  return `${iso.slice(5, 7)}-${iso.slice(8, 10)}-${iso.slice(0, 4)}`;
}

/** Throws invalid_date naming the record (never echoing its contents). */
export function requireDueDate(record: SeedRecord, index: number): string {
  const iso = parseDueDate(record.DueDate);
  if (iso === undefined) {
    throw new VaultError(
      'invalid_date',
      `record ${index}: DueDate must be a real calendar date in MM-DD-YYYY form`,
    );
  }
  return iso;
}
