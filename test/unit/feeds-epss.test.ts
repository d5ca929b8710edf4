// The EPSS reader on a real subset of FIRST's daily CSV (see
// test/fixtures/feeds/SOURCES): exact rows and version, plain and gzipped
// (detected by its bytes), files from before the comment line, every bad row
// refused with its line number, and 300,000 rows streamed.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { EpssScore } from '../../src/core/feeds.js';
import { FeedError } from '../../src/feeds/feed-error.js';
import { readEpss } from '../../src/feeds/epss.js';

const CSV = new URL('../fixtures/feeds/epss_scores-2026-09-29.csv', import.meta.url);
const GZ = new URL('../fixtures/feeds/epss_scores-2026-09-29.csv.gz', import.meta.url);
const real = readFileSync(CSV, 'utf8');
const [COMMENT, HEADER, ...ROWS] = real.trimEnd().split('\n') as [string, string, ...string[]];
const dir = mkdtempSync(join(tmpdir(), 'vulnvault-epss-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(content: string | Buffer, name = 'epss_scores-2026-09-29.csv'): string {
  const sub = join(dir, String(n++));
  mkdirSync(sub);
  const p = join(sub, name);
  writeFileSync(p, content);
  return p;
}

async function all(path: string) {
  const epss = await readEpss(path);
  const rows: EpssScore[] = [];
  for await (const r of epss.rows) rows.push(r);
  return { epss, rows };
}

async function refusal(path: string): Promise<FeedError> {
  try {
    await all(path);
  } catch (err) {
    assert.ok(err instanceof FeedError, `expected a FeedError, got ${String(err)}`);
    return err;
  }
  assert.fail('the file was accepted');
}

describe('EPSS reader on a real subset of the daily file', () => {
  it('reads the 23 rows, the model version and the score date', async () => {
    const { epss, rows } = await all(fileURLToPath(CSV));
    assert.equal(rows.length, 23);
    assert.equal(epss.modelVersion, 'v2026.06.15');
    assert.equal(epss.scoreDate, '2026-09-29T12:00:22Z');
    assert.equal(epss.version, 'v2026.06.15/2026-09-29T12:00:22Z');
    assert.equal(epss.date, '2026-09-29');
    assert.deepEqual(rows[0], { cve: 'CVE-1999-0001', epss: 0.03351, percentile: 0.88255 });
    assert.deepEqual(
      rows.find((r) => r.cve === 'CVE-2014-6271'),
      { cve: 'CVE-2014-6271', epss: 0.99999, percentile: 0.99993 },
    );
    assert.deepEqual(rows.at(-1), { cve: 'CVE-2014-6278', epss: 0.99603, percentile: 0.99947 });
    assert.equal(epss.sha256(), createHash('sha256').update(real).digest('hex'));
  });

  it('reads the gzipped copy to the same rows; the digest is of the .gz bytes', async () => {
    const plain = await all(fileURLToPath(CSV));
    const gz = await all(fileURLToPath(GZ));
    assert.deepEqual(gz.rows, plain.rows);
    assert.equal(gz.epss.version, plain.epss.version);
    assert.equal(gz.epss.sha256(), createHash('sha256').update(readFileSync(GZ)).digest('hex'));
    // Detected by the magic bytes, not the name.
    const renamed = await all(file(readFileSync(GZ), 'epss_scores-2026-09-29.csv'));
    assert.equal(renamed.rows.length, 23);
  });

  it('accepts CRLF line ends and the older "+0000" score date', async () => {
    const older = [
      '#model_version:v2023.03.01,score_date:2025-01-01T00:00:00+0000',
      HEADER,
      ...ROWS,
    ];
    const { epss, rows } = await all(file(older.join('\r\n') + '\r\n'));
    assert.equal(rows.length, 23);
    assert.equal(epss.version, 'v2023.03.01/2025-01-01T00:00:00+0000');
    assert.equal(epss.date, '2025-01-01');
  });

  it('takes the date from the file name when there is no comment line (older files)', async () => {
    const { epss, rows } = await all(
      file([HEADER, ...ROWS].join('\n') + '\n', 'epss_scores-2021-04-14.csv.gz'),
    );
    assert.equal(rows.length, 23);
    assert.equal(epss.modelVersion, null);
    assert.equal(epss.version, 'unknown/2021-04-14');
    assert.equal(epss.date, '2021-04-14');
  });

  it('accepts a score written in exponent form (5e-05)', async () => {
    const { rows } = await all(file([COMMENT, HEADER, 'CVE-2021-40438,5e-05,0.02318'].join('\n')));
    assert.deepEqual(rows, [{ cve: 'CVE-2021-40438', epss: 0.00005, percentile: 0.02318 }]);
  });

  it('streams 300,000 rows of a gzipped file', async () => {
    const path = join(dir, 'epss_scores-2026-10-01.csv.gz');
    const lines = [COMMENT, HEADER];
    for (let i = 0; i < 300_000; i++) {
      lines.push(
        `CVE-${2000 + (i % 26)}-${String(10_000 + i).padStart(5, '0')},0.0${i % 10}123,0.${i % 10}4567`,
      );
    }
    writeFileSync(path, gzipSync(lines.join('\n') + '\n'));
    lines.length = 0;
    const epss = await readEpss(path);
    let count = 0;
    let last: EpssScore | undefined;
    for await (const r of epss.rows) {
      count++;
      last = r;
    }
    assert.equal(count, 300_000);
    assert.deepEqual(last, { cve: 'CVE-2011-309999', epss: 0.09123, percentile: 0.94567 });
  });
});

describe('EPSS reader refuses a bad file, naming the line', () => {
  const cases: [string, () => string, RegExp][] = [
    [
      'a missing header',
      () => file([COMMENT, ...ROWS].join('\n')),
      /line 2: expected the header cve,epss,percentile, found "CVE-1999-0001,0.03351,0.88255"/,
    ],
    [
      'a different header',
      () => file([COMMENT, 'cve,epss', ...ROWS].join('\n')),
      /line 2: expected the header cve,epss,percentile, found "cve,epss"/,
    ],
    [
      'an empty file',
      () => file(''),
      /no #model_version,score_date comment line, and the file name has no date|end of file/,
    ],
    ['a comment line only', () => file(COMMENT + '\n'), /end of file: expected the header/],
    [
      'a comment without score_date',
      () => file(['#model_version:v2025.03.14', HEADER, ...ROWS].join('\n')),
      /line 1: comment: expected score_date:YYYY-MM-DDTHH:MM:SSZ, found nothing/,
    ],
    [
      'a comment with a bad score_date',
      () => file(['#model_version:v2025.03.14,score_date:2025-13-01T00:00:00Z', HEADER].join('\n')),
      /line 1: comment: expected score_date/,
    ],
    [
      'no comment and no date in the name',
      () => file([HEADER, ...ROWS].join('\n'), 'scores.csv'),
      /scores\.csv: no #model_version,score_date comment line, and the file name has no date/,
    ],
    [
      'a header but no rows',
      () => file([COMMENT, HEADER].join('\n') + '\n'),
      /no rows after the header/,
    ],
    [
      'a malformed CVE id',
      () => file([COMMENT, HEADER, ROWS[0], 'CVE-1999-02,0.1,0.2'].join('\n')),
      /line 4: expected a CVE id like CVE-2021-44228, found "CVE-1999-02"/,
    ],
    [
      'an epss above 1',
      () => file([COMMENT, HEADER, ...ROWS.slice(0, 5), 'CVE-2020-0001,1.5,0.2'].join('\n')),
      /line 8: epss "1\.5" is not a number between 0 and 1/,
    ],
    [
      'a negative percentile',
      () => file([COMMENT, HEADER, 'CVE-2020-0001,0.5,-0.1'].join('\n')),
      /line 3: percentile "-0\.1" is not a number between 0 and 1/,
    ],
    [
      'a score that is not a number',
      () => file([COMMENT, HEADER, 'CVE-2020-0001,NaN,0.1'].join('\n')),
      /line 3: epss "NaN" is not a number between 0 and 1/,
    ],
    [
      'an empty score',
      () => file([COMMENT, HEADER, 'CVE-2020-0001,,0.1'].join('\n')),
      /line 3: epss "" is not a number between 0 and 1/,
    ],
    [
      'hex or Infinity',
      () => file([COMMENT, HEADER, 'CVE-2020-0001,0x1,Infinity'].join('\n')),
      /line 3: epss "0x1" is not a number/,
    ],
    [
      'too many fields',
      () => file([COMMENT, HEADER, 'CVE-2020-0001,0.1,0.2,0.3'].join('\n')),
      /line 3: expected 3 fields \(cve,epss,percentile\), found 4/,
    ],
    [
      'a blank line among the rows',
      () => file([COMMENT, HEADER, ROWS[0], '', ROWS[1]].join('\n')),
      /line 4: expected 3 fields \(cve,epss,percentile\), found 1/,
    ],
    [
      'a CVE twice',
      () => file([COMMENT, HEADER, ...ROWS, ROWS[3]].join('\n')),
      /line 26: CVE-1999-0004 listed twice/,
    ],
    [
      'a very long line',
      () => file([COMMENT, HEADER, 'CVE-2020-0001,0.' + '1'.repeat(5000) + ',0.1'].join('\n')),
      /line 3: longer than 512 bytes/,
    ],
    [
      'bytes that are not UTF-8',
      () =>
        file(
          Buffer.concat([
            Buffer.from(`${COMMENT}\n${HEADER}\nCVE-2020-0001,0.1,0.`),
            Buffer.from([0xff, 0x0a]),
          ]),
        ),
      /line 3: not UTF-8 text/,
    ],
    ['a truncated gzip', () => file(readFileSync(GZ).subarray(0, 100)), /not a valid gzip file/],
  ];
  for (const [what, make, message] of cases) {
    it(`refuses ${what}`, async () => {
      const err = await refusal(make());
      assert.equal(err.code, 'feed_invalid');
      assert.match(err.message, /^epss: (epss_scores-2026-09-29\.csv|scores\.csv)\b/);
      assert.match(err.message, message);
      assert.ok(err.message.length < 300, err.message);
    });
  }

  it('never echoes a long cell', async () => {
    const err = await refusal(file([COMMENT, HEADER, `${'X'.repeat(400)},0.1,0.1`].join('\n')));
    assert.ok(err.message.length < 200, err.message);
  });

  it('refuses a file that inflates beyond the cap, reading no further', async () => {
    // A gzip bomb in miniature: 2.6 MB of valid rows in a small .gz, against a 1 MiB cap.
    const rows = Array.from({ length: 100_000 }, (_, i) => `CVE-2020-${100_000 + i},0.1,0.1`);
    const bomb = gzipSync([COMMENT, HEADER, ...rows].join('\n'));
    assert.ok(bomb.length < 2 ** 20 / 2);
    const epss = await readEpss(file(bomb), { maxBytes: 2 ** 20 });
    const err = await (async () => {
      try {
        for await (const _ of epss.rows) void _;
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof FeedError);
    assert.equal(
      err.message,
      'epss: epss_scores-2026-09-29.csv is larger than 1 MiB inflated; is it the right file?',
    );
  });

  it('names a file it cannot read as unreadable', async () => {
    const err = await refusal(join(dir, 'missing.csv'));
    assert.equal(err.code, 'feed_unreadable');
    assert.equal(err.message, 'epss: cannot read missing.csv (ENOENT)');
  });
});
