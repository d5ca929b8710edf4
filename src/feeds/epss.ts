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
import { dayOfTime, isDay, lineBatches, openFeedFile } from './feed-file.js';

type Line = { no: number; text: string };

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

export async function readEpss(
  file: string,
  options: { maxBytes?: number } = {},
): Promise<EpssFile> {
  const bytes = await openFeedFile('epss', file, options.maxBytes ?? EPSS_MAX_BYTES);
  const batches = lineBatches('epss', bytes, LINE_MAX)[Symbol.asyncIterator]();
  let batch: Line[] = [];
  let pos = 0;
  const nextLine = async (): Promise<Line | undefined> => {
    while (pos >= batch.length) {
      const r = await batches.next();
      if (r.done) return undefined;
      batch = r.value;
      pos = 0;
    }
    return batch[pos++];
  };
  const at = (no: number) => (what: string) =>
    new FeedError('feed_invalid', `epss: ${bytes.name} line ${no}: ${what}`);
  let head: { modelVersion: string | null; scoreDate: string; date: string };
  let next: Line | undefined;
  try {
    next = await nextLine();
    if (next !== undefined && next.text.startsWith('#')) {
      head = comment(next.text, at(next.no));
      next = await nextLine();
    } else {
      const day = NAME_DATE.exec(bytes.name)?.[1];
      if (day === undefined || !isDay(day)) {
        throw new FeedError(
          'feed_invalid',
          `epss: ${bytes.name}: no #model_version,score_date comment line, and the file name has no date (epss_scores-YYYY-MM-DD.csv)`,
        );
      }
      head = { modelVersion: null, scoreDate: day, date: day };
    }
    if (next === undefined || next.text !== HEADER) {
      throw new FeedError(
        'feed_invalid',
        `epss: ${bytes.name} ${next ? `line ${next.no}` : 'end of file'}: expected the header ${HEADER}, found ${quote(next?.text)}`,
      );
    }
  } catch (err) {
    await batches.return(undefined);
    throw err;
  }
  async function* rows(): AsyncGenerator<EpssScore> {
    const seen = new Set<string>();
    try {
      for (;;) {
        while (pos < batch.length) {
          const { no, text } = batch[pos++] as Line;
          const cells = text.split(',');
          if (cells.length !== 3) {
            throw at(no)(`expected 3 fields (cve,epss,percentile), found ${cells.length}`);
          }
          const [cve, epss, percentile] = cells as [string, string, string];
          if (!CVE_ID.test(cve)) {
            throw at(no)(`expected a CVE id like CVE-2021-44228, found ${quote(cve)}`);
          }
          if (seen.has(cve)) throw at(no)(`${cve} listed twice`);
          seen.add(cve);
          yield {
            cve,
            epss: score(epss, 'epss', no),
            percentile: score(percentile, 'percentile', no),
          };
        }
        const r = await batches.next();
        if (r.done) break;
        batch = r.value;
        pos = 0;
      }
      if (seen.size === 0) {
        throw new FeedError(
          'feed_invalid',
          `epss: ${bytes.name}: no rows after the header (importing it would clear the feed)`,
        );
      }
    } finally {
      await batches.return(undefined);
    }
  }
  function score(text: string, what: string, no: number): number {
    const n = NUMBER.test(text) ? Number(text) : NaN;
    if (!(n >= 0 && n <= 1)) throw at(no)(`${what} ${quote(text)} is not a number between 0 and 1`);
    return n;
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
