// The KEV catalog reader on a real subset of CISA's catalog (see
// test/fixtures/feeds/SOURCES): exact entries and version, gzip detected by
// its bytes, and every way a catalog can be wrong, each refused with a
// message naming the file, the entry and the field.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { FeedError } from '../../src/feeds/feed-error.js';
import { readKev } from '../../src/feeds/kev.js';

const FIXTURE = new URL('../fixtures/feeds/known_exploited_vulnerabilities.json', import.meta.url);
const real = readFileSync(FIXTURE);
const dir = mkdtempSync(join(tmpdir(), 'vulnvault-kev-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** Writes content to a fresh directory under the given file name. */
function file(content: string | Buffer, name = 'known_exploited_vulnerabilities.json'): string {
  const sub = join(dir, String(n++));
  mkdirSync(sub);
  const p = join(sub, name);
  writeFileSync(p, content);
  return p;
}

/** The fixture's JSON with `edit` applied to it. */
function edited(
  edit: (doc: Record<string, unknown> & { vulnerabilities: Record<string, unknown>[] }) => void,
) {
  const doc = JSON.parse(real.toString('utf8')) as Parameters<typeof edit>[0];
  edit(doc);
  return file(JSON.stringify(doc));
}

async function refusal(path: string): Promise<FeedError> {
  try {
    await readKev(path);
  } catch (err) {
    assert.ok(err instanceof FeedError, `expected a FeedError, got ${String(err)}`);
    return err;
  }
  assert.fail('the catalog was accepted');
}

describe('KEV catalog reader on a real subset of the catalog', () => {
  it('keeps the 10 entries with their dates, ransomware use and names', async () => {
    const kev = await readKev(fileURLToPath(FIXTURE));
    assert.equal(kev.entries.length, 10);
    assert.equal(kev.catalogVersion, '2025.08.25');
    assert.equal(kev.dateReleased, '2025-08-25T17:04:19.9796Z');
    assert.equal(kev.version, '2025.08.25/2025-08-25T17:04:19.9796Z');
    assert.equal(kev.date, '2025-08-25');
    assert.equal(kev.sha256(), createHash('sha256').update(real).digest('hex'));
    assert.equal(kev.entries.filter((e) => e.ransomware).length, 6);
    assert.deepEqual(
      kev.entries.find((e) => e.cve === 'CVE-2021-44228'),
      {
        cve: 'CVE-2021-44228',
        dateAdded: '2021-12-10',
        dueDate: '2021-12-24',
        ransomware: true,
        vendorProject: 'Apache',
        product: 'Log4j2',
        vulnerabilityName: 'Apache Log4j2 Remote Code Execution Vulnerability',
      },
    );
    assert.deepEqual(
      kev.entries.find((e) => e.cve === 'CVE-2023-4966'),
      {
        cve: 'CVE-2023-4966',
        dateAdded: '2023-10-18',
        dueDate: '2023-11-08',
        ransomware: true,
        vendorProject: 'Citrix',
        product: 'NetScaler ADC and NetScaler Gateway',
        vulnerabilityName:
          'Citrix NetScaler ADC and NetScaler Gateway Buffer Overflow Vulnerability',
      },
    );
    // "Unknown" is false, and the order is the catalog's.
    assert.deepEqual(
      kev.entries.slice(0, 2).map((e) => [e.cve, e.ransomware]),
      [
        ['CVE-2025-48384', false],
        ['CVE-2024-8068', false],
      ],
    );
  });

  it('reads a gzipped copy, whatever its name; the digest is of the gzip bytes', async () => {
    const gz = gzipSync(real);
    const kev = await readKev(file(gz, 'kev-download.bin'));
    assert.equal(kev.entries.length, 10);
    assert.equal(kev.sha256(), createHash('sha256').update(gz).digest('hex'));
  });
});

describe('KEV catalog reader refuses a bad catalog', () => {
  const cases: [string, () => string, RegExp][] = [
    ['not JSON', () => file('{"title": "CISA'), /: not JSON \(/],
    ['not an object', () => file('[1, 2]'), /expected the catalog object, found an array/],
    [
      'a count that does not match',
      () => edited((d) => (d.count = 11)),
      /count: says 11 but vulnerabilities has 10 entries/,
    ],
    [
      'an entry removed (cut short) but the count kept',
      () => edited((d) => d.vulnerabilities.pop()),
      /count: says 10 but vulnerabilities has 9 entries/,
    ],
    [
      'no count',
      () => edited((d) => delete d.count),
      /count: expected a whole number, found nothing/,
    ],
    [
      'an empty catalog',
      () => edited((d) => ((d.vulnerabilities = []), (d.count = 0))),
      /is empty/,
    ],
    [
      'no catalogVersion',
      () => edited((d) => delete d.catalogVersion),
      /catalogVersion: expected a version like "2025.08.25", found nothing/,
    ],
    [
      'a dateReleased that is no time',
      () => edited((d) => (d.dateReleased = '25/08/2025')),
      /dateReleased: expected a time like .*, found "25\/08\/2025"/,
    ],
    [
      'a malformed CVE id',
      () => edited((d) => (d.vulnerabilities[3]!.cveID = 'CVE-23-4966')),
      /vulnerabilities\[3\]\.cveID: expected a CVE id like CVE-2021-44228, found "CVE-23-4966"/,
    ],
    [
      'a CVE listed twice',
      () => edited((d) => (d.vulnerabilities[1]!.cveID = 'CVE-2025-48384')),
      /vulnerabilities\[1\] \(CVE-2025-48384\)\.cveID: listed twice/,
    ],
    [
      'a dateAdded that is not YYYY-MM-DD',
      () => edited((d) => (d.vulnerabilities[8]!.dateAdded = '2021-12-10T00:00:00Z')),
      /vulnerabilities\[8\] \(CVE-2021-44228\)\.dateAdded: expected a date YYYY-MM-DD, found "2021-12-10T00:00:00Z"/,
    ],
    [
      'a dueDate that is not a day',
      () => edited((d) => (d.vulnerabilities[8]!.dueDate = '2021-02-30')),
      /\(CVE-2021-44228\)\.dueDate: expected a date YYYY-MM-DD, found "2021-02-30"/,
    ],
    [
      'a missing required field',
      () => edited((d) => delete d.vulnerabilities[0]!.requiredAction),
      /vulnerabilities\[0\] \(CVE-2025-48384\)\.requiredAction: expected a string, found nothing/,
    ],
    [
      'a product that is not a string',
      () => edited((d) => (d.vulnerabilities[0]!.product = 42)),
      /\.product: expected a string, found 42/,
    ],
    [
      'an unknown ransomware value',
      () => edited((d) => (d.vulnerabilities[2]!.knownRansomwareCampaignUse = 'Yes')),
      /\(CVE-2024-3400\)\.knownRansomwareCampaignUse: expected "Known" or "Unknown", found "Yes"/,
    ],
    [
      'a ransomware value that names an Object property',
      () => edited((d) => (d.vulnerabilities[2]!.knownRansomwareCampaignUse = 'toString')),
      /knownRansomwareCampaignUse: expected "Known" or "Unknown", found "toString"/,
    ],
    [
      'malformed cwes',
      () => edited((d) => (d.vulnerabilities[2]!.cwes = ['77'])),
      /\.cwes: expected CWE ids like \["CWE-20"\], found an array/,
    ],
    [
      'an entry that is not an object',
      () => edited((d) => ((d.vulnerabilities as unknown[])[4] = 'CVE-2023-34362')),
      /vulnerabilities\[4\]: expected an object, found "CVE-2023-34362"/,
    ],
    [
      'bytes that are not UTF-8',
      () => file(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])),
      /is not UTF-8 text/,
    ],
    [
      'a truncated gzip',
      () => file(gzipSync(real).subarray(0, 200), 'kev.json.gz'),
      /kev\.json\.gz: not a valid gzip file/,
    ],
  ];
  for (const [what, make, message] of cases) {
    it(`refuses ${what}`, async () => {
      const err = await refusal(make());
      assert.equal(err.code, 'feed_invalid');
      assert.match(err.message, /^kev: (known_exploited_vulnerabilities\.json|kev\.json\.gz)\b/);
      assert.match(err.message, message);
      assert.ok(err.message.length < 300, err.message);
    });
  }

  it('never echoes long content', async () => {
    const long = 'A'.repeat(10_000);
    const err = await refusal(edited((d) => (d.vulnerabilities[0]!.dateAdded = long)));
    assert.ok(err.message.length < 200, err.message);
    assert.match(err.message, /found "AAAA[A]*…/);
  });

  it('refuses a file larger than the cap (after inflating)', async () => {
    const padded = gzipSync(Buffer.concat([Buffer.alloc(3 * 2 ** 20, 0x20), real]));
    const err = await (async () => {
      try {
        await readKev(file(padded), { maxBytes: 2 ** 20 });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    assert.ok(err instanceof FeedError);
    assert.equal(
      err.message,
      'kev: known_exploited_vulnerabilities.json is larger than 1 MiB inflated; is it the right file?',
    );
    // The same file under the default cap is the catalog.
    assert.equal((await readKev(file(padded))).entries.length, 10);
  });

  it('names a file it cannot read as unreadable', async () => {
    const err = await refusal(join(dir, 'no-such-file.json'));
    assert.equal(err.code, 'feed_unreadable');
    assert.equal(err.message, 'kev: cannot read no-such-file.json (ENOENT)');
    const err2 = await refusal(dir);
    assert.equal(err2.code, 'feed_unreadable');
    assert.match(err2.message, /is not a regular file/);
  });
});
