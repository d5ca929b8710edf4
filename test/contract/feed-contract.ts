// One specification both FeedStore adapters meet (SQLite and DynamoDB Local),
// through the port only, fed by the real readers on the real fixtures
// (test/fixtures/feeds/SOURCES). `store` imports; `reader` is a second
// instance on its own connection, as the server's read path would be, so
// "readers see the old version until the new one is in" is observable.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { EpssScore, FeedSource, FeedStore, KevEntry } from '../../src/core/feeds.js';
import { readEpss } from '../../src/feeds/epss.js';
import { FeedError } from '../../src/feeds/feed-error.js';
import { readKev } from '../../src/feeds/kev.js';

export interface FeedContractStore {
  store: FeedStore;
  reader: FeedStore;
  close(): Promise<void>;
}

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/feeds/${name}`, import.meta.url));
const KEV = fixture('known_exploited_vulnerabilities.json');
const EPSS = fixture('epss_scores-2026-09-29.csv');
const EPSS_GZ = fixture('epss_scores-2026-09-29.csv.gz');

const source = (version: string, date = '2026-10-01', sha = 'a'.repeat(64)): FeedSource => ({
  version,
  date,
  sha256: () => sha,
});

/** Rows that throw a FeedError after `n` good ones, as a bad line does. */
async function* failingAfter<T>(rows: Iterable<T>, n: number): AsyncGenerator<T> {
  let i = 0;
  for (const r of rows) {
    if (i++ === n) throw new FeedError('feed_invalid', `epss: test.csv line ${n + 3}: bad`);
    yield r;
  }
}

const synthetic = (n: number, epss = 0.5): EpssScore[] =>
  Array.from({ length: n }, (_, i) => ({
    cve: `CVE-2030-${String(10_000 + i)}`,
    epss,
    percentile: i / n,
  }));

export function feedContract(
  name: string,
  open: (now: () => Date) => Promise<FeedContractStore>,
): void {
  describe(`FeedStore contract: ${name}`, () => {
    let s: FeedContractStore;
    let clock = new Date('2026-10-01T08:00:00.000Z');
    before(async () => {
      s = await open(() => clock);
    });
    after(() => s.close());

    it('has no feeds before the first import; every CVE looked up is answered with nulls', async () => {
      assert.deepEqual(await s.reader.status(), []);
      const m = await s.reader.lookup(['CVE-2021-44228', 'CVE-2021-44228', 'CVE-1999-0001']);
      assert.deepEqual(
        [...m],
        [
          ['CVE-2021-44228', { kev: null, epss: null, epssPercentile: null }],
          ['CVE-1999-0001', { kev: null, epss: null, epssPercentile: null }],
        ],
      );
      assert.equal((await s.reader.lookup([])).size, 0);
    });

    it('imports the real KEV and EPSS fixtures and reports their versions, dates and counts', async () => {
      const kev = await readKev(KEV);
      const kevStatus = await s.store.importKev(kev.entries, kev);
      const epss = await readEpss(EPSS_GZ);
      const epssStatus = await s.store.importEpss(epss.rows, epss);
      const expected = [
        {
          name: 'kev',
          version: '2025.08.25/2025-08-25T17:04:19.9796Z',
          date: '2025-08-25',
          count: 10,
          sha256: kev.sha256(),
          importedAt: '2026-10-01T08:00:00.000Z',
        },
        {
          name: 'epss',
          version: 'v2026.06.15/2026-09-29T12:00:22Z',
          date: '2026-09-29',
          count: 23,
          sha256: epss.sha256(),
          importedAt: '2026-10-01T08:00:00.000Z',
        },
      ];
      assert.deepEqual([kevStatus, epssStatus], expected);
      assert.deepEqual(await s.reader.status(), expected);
      assert.deepEqual(await s.store.status(), expected);
    });

    it('looks CVEs up in both feeds: KEV with its due date, EPSS with its percentile', async () => {
      const m = await s.reader.lookup([
        'CVE-2014-6271',
        'CVE-2021-44228',
        'CVE-1999-0001',
        'CVE-2099-0001',
      ]);
      assert.deepEqual(Object.fromEntries(m), {
        // Shellshock: in both feeds.
        'CVE-2014-6271': {
          kev: { dateAdded: '2022-01-28', dueDate: '2022-07-28', ransomware: false },
          epss: 0.99999,
          epssPercentile: 0.99993,
        },
        // log4j: in the KEV subset, not in the EPSS subset.
        'CVE-2021-44228': {
          kev: { dateAdded: '2021-12-10', dueDate: '2021-12-24', ransomware: true },
          epss: null,
          epssPercentile: null,
        },
        'CVE-1999-0001': { kev: null, epss: 0.03351, epssPercentile: 0.88255 },
        'CVE-2099-0001': { kev: null, epss: null, epssPercentile: null },
      });
    });

    it('re-imports the same version: same state, a new import time', async () => {
      clock = new Date('2026-10-02T08:00:00.000Z');
      const epss = await readEpss(EPSS);
      const again = await s.store.importEpss(epss.rows, epss);
      assert.equal(again.count, 23);
      assert.equal(again.version, 'v2026.06.15/2026-09-29T12:00:22Z');
      assert.equal(again.importedAt, '2026-10-02T08:00:00.000Z');
      const m = await s.reader.lookup(['CVE-2014-6271', 'CVE-1999-0012']);
      assert.equal(m.get('CVE-2014-6271')?.epss, 0.99999);
      assert.equal(m.get('CVE-1999-0012')?.epssPercentile, 0.97162);
      assert.equal((await s.reader.status()).find((f) => f.name === 'epss')?.count, 23);
    });

    it('keeps the previous feed when an import fails part way (a bad row)', async () => {
      const before = await s.reader.status();
      await assert.rejects(
        s.store.importEpss(failingAfter(synthetic(1500), 1200), source('v2099/bad')),
        (err: unknown) => err instanceof FeedError && /line 1203: bad/.test(err.message),
      );
      await assert.rejects(
        s.store.importKev(
          failingAfter<KevEntry>(
            ['CVE-2030-0001', 'CVE-2030-0002'].map((cve) => ({
              cve,
              dateAdded: '2030-01-01',
              dueDate: '2030-01-21',
              ransomware: true,
              vendorProject: 'v',
              product: 'p',
              vulnerabilityName: 'n',
            })),
            1,
          ),
          source('2099.01.01/x'),
        ),
        FeedError,
      );
      assert.deepEqual(await s.reader.status(), before);
      assert.deepEqual(await s.store.status(), before);
      const m = await s.reader.lookup(['CVE-2030-10000', 'CVE-2030-0001', 'CVE-2014-6271']);
      assert.deepEqual(m.get('CVE-2030-10000'), { kev: null, epss: null, epssPercentile: null });
      assert.equal(m.get('CVE-2030-0001')?.kev, null);
      assert.equal(m.get('CVE-2014-6271')?.epss, 0.99999);
      assert.equal(m.get('CVE-2014-6271')?.kev?.dueDate, '2022-07-28');
    });

    it('shows readers the old version while an import is under way, the new one after', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let reached!: () => void;
      const halfway = new Promise<void>((r) => (reached = r));
      async function* paused(): AsyncGenerator<EpssScore> {
        const rows = synthetic(1200, 0.25);
        for (let i = 0; i < rows.length; i++) {
          if (i === 1100) {
            reached();
            await gate;
          }
          yield rows[i] as EpssScore;
        }
      }
      const importing = s.store.importEpss(
        paused(),
        source('v2099.01.01/2026-10-03T00:00:00Z', '2026-10-03', 'b'.repeat(64)),
      );
      await halfway;
      const during = await s.reader.lookup(['CVE-2030-10000', 'CVE-2014-6271']);
      assert.equal(during.get('CVE-2030-10000')?.epss, null);
      assert.equal(during.get('CVE-2014-6271')?.epss, 0.99999);
      assert.equal(
        (await s.reader.status()).find((f) => f.name === 'epss')?.version,
        'v2026.06.15/2026-09-29T12:00:22Z',
      );
      release();
      const done = await importing;
      assert.deepEqual(done, {
        name: 'epss',
        version: 'v2099.01.01/2026-10-03T00:00:00Z',
        date: '2026-10-03',
        count: 1200,
        sha256: 'b'.repeat(64),
        importedAt: '2026-10-02T08:00:00.000Z',
      });
      // The whole feed was replaced: the fixture's rows are gone.
      const m = await s.reader.lookup(['CVE-2030-10000', 'CVE-2030-11199', 'CVE-2014-6271']);
      assert.deepEqual(m.get('CVE-2030-10000'), { kev: null, epss: 0.25, epssPercentile: 0 });
      assert.equal(m.get('CVE-2030-11199')?.epss, 0.25);
      assert.equal(m.get('CVE-2014-6271')?.epss, null);
      assert.equal(m.get('CVE-2014-6271')?.kev?.ransomware, false, 'KEV untouched');
    });

    it('answers a lookup of more CVEs than one request carries', async () => {
      const cves = synthetic(1200).map((r) => r.cve);
      const m = await s.reader.lookup(cves);
      assert.equal(m.size, 1200);
      assert.equal([...m.values()].filter((p) => p.epss === 0.25).length, 1200);
    });
  });
}
