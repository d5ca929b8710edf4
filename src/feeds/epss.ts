// FIRST's EPSS scores, the daily CSV (epss_scores-YYYY-MM-DD.csv, gzipped or
// not), streamed line by line: the file has ~300,000 rows and only the row
// being checked is held (plus the set of CVEs seen, for duplicates).
//
//   #model_version:v2025.03.14,score_date:2025-03-20T12:55:00Z   (files before 2022: absent)
//   cve,epss,percentile
//   CVE-1999-0001,0.01141,0.7769
//
// Without the comment line the score date comes from the file name, and the
// model version is "unknown". Every row is checked: a CVE id, epss and
// percentile numbers in [0, 1], no CVE twice; the first bad row ends the
// import (the store keeps the previous scores).

import { CVE_ID, type EpssScore, type FeedSource } from '../core/feeds.js';
import { FeedError, quote } from './feed-error.js';
import { dayOfTime, isDay, lines, openFeedFile } from './feed-file.js';

/** Inflated, the real file is about 11 MB; this leaves room for years of growth. */
export const EPSS_MAX_BYTES = 512 * 2 ** 20;
const LINE_MAX = 512;
const HEADER = 'cve,epss,percentile';
const NUMBER = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]{1,3})?$/;
const MODEL_VERSION = /^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$/;
const NAME_DATE = /^epss_scores-([0-9]{4}-[0-9]{2}-[0-9]{2})\.csv(?:\.gz)?$/;

export interface EpssFile extends FeedSource {
  /** From the comment line; null for files without one. */
  modelVersion: string | null;
  /** The comment's score_date, or the file name's day. */
  scoreDate: string;
  /** The rows, checked as they stream; iterate once. */
  rows: AsyncIterable<EpssScore>;
}

function comment(line: string, bad: (what: string) => FeedError) {
  const fields = new Map<string, string>();
  for (const part of line.slice(1).split(',')) {
    const colon = part.indexOf(':');
    if (colon <= 0) throw bad(`comment field ${quote(part)} is not key:value`);
    fields.set(part.slice(0, colon).trim(), part.slice(colon + 1).trim());
  }
  const modelVersion = fields.get('model_version');
  const scoreDate = fields.get('score_date');
  if (modelVersion === undefined || !MODEL_VERSION.test(modelVersion)) {
    throw bad(`comment: expected model_version:vYYYY.MM.DD, found ${quote(modelVersion)}`);
  }
  const date = dayOfTime(scoreDate);
  if (date === undefined) {
    throw bad(`comment: expected score_date:YYYY-MM-DDTHH:MM:SSZ, found ${quote(scoreDate)}`);
  }
  return { modelVersion, scoreDate: scoreDate as string, date };
}

function score(text: string, what: string, bad: (what: string) => FeedError): number {
  const n = NUMBER.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 1)) throw bad(`${what} ${quote(text)} is not a number between 0 and 1`);
  return n;
}

export async function readEpss(
  file: string,
  options: { maxBytes?: number } = {},
): Promise<EpssFile> {
  const bytes = await openFeedFile('epss', file, options.maxBytes ?? EPSS_MAX_BYTES);
  const it = lines('epss', bytes, LINE_MAX)[Symbol.asyncIterator]();
  const at = (no: number) => (what: string) =>
    new FeedError('feed_invalid', `epss: ${bytes.name} line ${no}: ${what}`);
  let next = await it.next();
  let head: { modelVersion: string | null; scoreDate: string; date: string };
  if (!next.done && next.value.text.startsWith('#')) {
    head = comment(next.value.text, at(next.value.no));
    next = await it.next();
  } else {
    const day = NAME_DATE.exec(bytes.name)?.[1];
    if (day === undefined || !isDay(day)) {
      await it.return?.(undefined);
      throw new FeedError(
        'feed_invalid',
        `epss: ${bytes.name}: no #model_version,score_date comment line, and the file name has no date (epss_scores-YYYY-MM-DD.csv)`,
      );
    }
    head = { modelVersion: null, scoreDate: day, date: day };
  }
  if (next.done || next.value.text !== HEADER) {
    await it.return?.(undefined);
    const no = next.done ? 'end of file' : `line ${next.value.no}`;
    throw new FeedError(
      'feed_invalid',
      `epss: ${bytes.name} ${no}: expected the header ${HEADER}, found ${quote(next.done ? undefined : next.value.text)}`,
    );
  }
  async function* rows(): AsyncGenerator<EpssScore> {
    const seen = new Set<string>();
    try {
      for (let r = await it.next(); !r.done; r = await it.next()) {
        const bad = at(r.value.no);
        const cells = r.value.text.split(',');
        if (cells.length !== 3) {
          throw bad(`expected 3 fields (cve,epss,percentile), found ${cells.length}`);
        }
        const [cve, epss, percentile] = cells as [string, string, string];
        if (!CVE_ID.test(cve))
          throw bad(`expected a CVE id like CVE-2021-44228, found ${quote(cve)}`);
        if (seen.has(cve)) throw bad(`${cve} listed twice`);
        seen.add(cve);
        yield {
          cve,
          epss: score(epss, 'epss', bad),
          percentile: score(percentile, 'percentile', bad),
        };
      }
      if (seen.size === 0) {
        throw new FeedError(
          'feed_invalid',
          `epss: ${bytes.name}: no rows after the header (importing it would clear the feed)`,
        );
      }
    } finally {
      await it.return?.(undefined);
    }
  }
  return {
    modelVersion: head.modelVersion,
    scoreDate: head.scoreDate,
    version: `${head.modelVersion ?? 'unknown'}/${head.scoreDate}`,
    date: head.date,
    rows: rows(),
    sha256: () => bytes.sha256(),
  };
}
