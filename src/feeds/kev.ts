// The CISA Known Exploited Vulnerabilities catalog, its JSON as CISA
// publishes it (known_exploited_vulnerabilities.json, gzipped or not):
//
//   { "title", "catalogVersion": "2025.08.25",
//     "dateReleased": "2025-08-25T17:04:19.9796Z", "count": 1404,
//     "vulnerabilities": [ { "cveID", "vendorProject", "product",
//        "vulnerabilityName", "dateAdded", "shortDescription",
//        "requiredAction", "dueDate", "knownRansomwareCampaignUse",
//        "notes", "cwes" }, … ] }
//
// Checked strictly against CISA's schema (known_exploited_vulnerabilities_schema.json:
// required fields, CVE id pattern, dates) plus what an import relies on:
// `count` equals the number of entries, no CVE twice, at least one entry
// (an empty catalog would silently clear the feed). The catalog is a few MB:
// it is read whole, parsed once, and only the kept fields survive.

import { CVE_ID, type FeedSource, type KevEntry } from '../core/feeds.js';
import { FeedError, quote } from './feed-error.js';
import { dayOfTime, isDay, openFeedFile, readText } from './feed-file.js';

/** The real catalog is about 1.3 MB; anything far larger is not it. */
export const KEV_MAX_BYTES = 64 * 2 ** 20;
const TEXT_MAX = 4096;
const CATALOG_VERSION = /^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$/;
const RANSOMWARE: Record<string, boolean> = { Known: true, Unknown: false };

export interface KevCatalog extends FeedSource {
  catalogVersion: string;
  dateReleased: string;
  entries: KevEntry[];
}

export async function readKev(
  file: string,
  options: { maxBytes?: number } = {},
): Promise<KevCatalog> {
  const bytes = await openFeedFile('kev', file, options.maxBytes ?? KEV_MAX_BYTES);
  const text = await readText('kev', bytes);
  const digest = bytes.sha256();
  return { ...parseKev(text, bytes.name), sha256: () => digest };
}

/** Checks and reduces a catalog's text; `name` is the file name for messages. */
export function parseKev(text: string, name: string): Omit<KevCatalog, 'sha256'> {
  const bad = (where: string, what: string) =>
    new FeedError('feed_invalid', `kev: ${name}${where ? ` ${where}` : ''}: ${what}`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new FeedError(
      'feed_invalid',
      `kev: ${name}: not JSON (${quote((err as Error).message)})`,
      {
        cause: err,
      },
    );
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw bad('', `expected the catalog object, found ${quote(doc)}`);
  }
  const top = doc as Record<string, unknown>;
  const { catalogVersion, dateReleased, count, vulnerabilities } = top;
  if (typeof catalogVersion !== 'string' || !CATALOG_VERSION.test(catalogVersion)) {
    throw bad(
      'catalogVersion',
      `expected a version like "2025.08.25", found ${quote(catalogVersion)}`,
    );
  }
  const date = dayOfTime(dateReleased);
  if (date === undefined) {
    throw bad(
      'dateReleased',
      `expected a time like "2025-08-25T17:04:19.9796Z", found ${quote(dateReleased)}`,
    );
  }
  if (!Array.isArray(vulnerabilities)) {
    throw bad('vulnerabilities', `expected an array, found ${quote(vulnerabilities)}`);
  }
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
    throw bad('count', `expected a whole number, found ${quote(count)}`);
  }
  if (count !== vulnerabilities.length) {
    throw bad(
      'count',
      `says ${count} but vulnerabilities has ${vulnerabilities.length} entries (a cut-short or edited file?)`,
    );
  }
  if (vulnerabilities.length === 0) {
    throw bad('vulnerabilities', 'is empty (importing it would clear the feed)');
  }
  const seen = new Set<string>();
  const entries = vulnerabilities.map((v: unknown, i): KevEntry => {
    const at = (field: string, cve?: string) =>
      `vulnerabilities[${i}]${cve ? ` (${cve})` : ''}${field ? `.${field}` : ''}`;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      throw bad(at(''), `expected an object, found ${quote(v)}`);
    }
    const e = v as Record<string, unknown>;
    const cve = e.cveID;
    if (typeof cve !== 'string' || !CVE_ID.test(cve)) {
      throw bad(at('cveID'), `expected a CVE id like CVE-2021-44228, found ${quote(cve)}`);
    }
    if (seen.has(cve)) throw bad(at('cveID', cve), 'listed twice');
    seen.add(cve);
    const text = (field: string): string => {
      const s = e[field];
      if (typeof s !== 'string') throw bad(at(field, cve), `expected a string, found ${quote(s)}`);
      if (s.length > TEXT_MAX) throw bad(at(field, cve), `longer than ${TEXT_MAX} characters`);
      return s;
    };
    const day = (field: string): string => {
      const s = e[field];
      if (!isDay(s)) throw bad(at(field, cve), `expected a date YYYY-MM-DD, found ${quote(s)}`);
      return s;
    };
    // Required by CISA's schema though not kept: their absence means this is
    // not the catalog (or a mangled copy of it).
    text('shortDescription');
    text('requiredAction');
    if (e.notes !== undefined) text('notes');
    if (
      e.cwes !== undefined &&
      !(
        Array.isArray(e.cwes) &&
        e.cwes.every((c) => typeof c === 'string' && /^CWE-[0-9]+$/.test(c))
      )
    ) {
      throw bad(at('cwes', cve), `expected CWE ids like ["CWE-20"], found ${quote(e.cwes)}`);
    }
    const ransomware = e.knownRansomwareCampaignUse;
    if (
      ransomware !== undefined &&
      (typeof ransomware !== 'string' || !Object.hasOwn(RANSOMWARE, ransomware))
    ) {
      throw bad(
        at('knownRansomwareCampaignUse', cve),
        `expected "Known" or "Unknown", found ${quote(ransomware)}`,
      );
    }
    return {
      cve,
      dateAdded: day('dateAdded'),
      dueDate: day('dueDate'),
      ransomware: ransomware === 'Known',
      vendorProject: text('vendorProject'),
      product: text('product'),
      vulnerabilityName: text('vulnerabilityName'),
    };
  });
  return {
    catalogVersion,
    dateReleased: dateReleased as string,
    version: `${catalogVersion}/${dateReleased as string}`,
    date,
    entries,
  };
}
