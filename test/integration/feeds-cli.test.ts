// `vulnvault feeds import|status` end to end: the real CLI as a child process
// on a data directory, the real fixtures (test/fixtures/feeds/SOURCES), then
// the findings database read back through the store. A bad file in either
// feed changes nothing, even when the other file is good.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openFindingsDbReadOnly } from '../../src/adapters/sqlite/database.js';
import { createSqliteFeedStore } from '../../src/adapters/sqlite/feed-store.js';
import { defaultConfigFile, loadConfig, resolvePath } from '../../src/config/config.js';
import { runCliAsync } from '../helpers/cli.js';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/feeds/${name}`, import.meta.url));
const KEV = fixture('known_exploited_vulnerabilities.json');
const EPSS_GZ = fixture('epss_scores-2026-09-29.csv.gz');
const EPSS = fixture('epss_scores-2026-09-29.csv');
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('vulnvault feeds', () => {
  let dir: string;
  let work: string;
  const feeds = (...args: string[]) => runCliAsync(['feeds', ...args, '--dir', dir]);

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'vulnvault-feeds-cli-'));
    dir = join(work, 'vv');
    // A data directory needs only its config for this command.
    mkdirSync(dir);
    writeFileSync(join(dir, 'vulnvault.json'), JSON.stringify(defaultConfigFile()));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  async function status(): Promise<unknown> {
    const r = await feeds('status', '--json');
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  }

  it('says there are no feeds before the first import', async () => {
    const r = await feeds('status');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'no feeds imported (vulnvault feeds import --kev FILE --epss FILE)\n');
    assert.deepEqual(await status(), []);
  });

  it('imports both files, prints what it imported and one JSON record per feed', async () => {
    const r = await feeds('import', '--kev', KEV, '--epss', EPSS_GZ);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      'imported epss v2026.06.15/2026-09-29T12:00:22Z: 23 scores (feed date 2026-09-29)\n' +
        'imported kev 2025.08.25/2025-08-25T17:04:19.9796Z: 10 entries (feed date 2025-08-25)\n',
    );
    const records = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      records.map((x) => [x.event, x.feed, x.version, x.count, x.sha256, x.file]),
      [
        ['feeds:import', 'epss', 'v2026.06.15/2026-09-29T12:00:22Z', 23, sha256(EPSS_GZ), EPSS_GZ],
        ['feeds:import', 'kev', '2025.08.25/2025-08-25T17:04:19.9796Z', 10, sha256(KEV), KEV],
      ],
    );
    assert.ok(records.every((x) => typeof x.user === 'string' && typeof x.time === 'string'));
  });

  it('shows each feed with its version, date, count and age', async () => {
    const r = await feeds('status');
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^FEED +VERSION +DATE +COUNT +AGE +IMPORTED$/);
    const day = (d: string) => Math.floor((Date.now() - Date.parse(`${d}T00:00:00Z`)) / 86_400_000);
    assert.match(
      lines[1] ?? '',
      new RegExp(
        `^kev +2025\\.08\\.25/2025-08-25T17:04:19\\.9796Z +2025-08-25 +10 +${day('2025-08-25')} days +\\d{4}-`,
      ),
    );
    assert.match(
      lines[2] ?? '',
      new RegExp(
        `^epss +v2026\\.06\\.15/2026-09-29T12:00:22Z +2026-09-29 +23 +(${day('2026-09-29')} days|today|1 day) `,
      ),
    );
    const json = (await status()) as {
      name: string;
      count: number;
      sha256: string;
      ageDays: number;
    }[];
    assert.deepEqual(
      json.map((f) => [f.name, f.count, f.sha256, f.ageDays]),
      [
        ['kev', 10, sha256(KEV), day('2025-08-25')],
        ['epss', 23, sha256(EPSS_GZ), day('2026-09-29')],
      ],
    );
  });

  it('puts the feeds where the read path joins them (the findings database)', async () => {
    const config = loadConfig(dir);
    const db = openFindingsDbReadOnly(resolvePath(config, config.storage.findings));
    try {
      const m = await createSqliteFeedStore(db).lookup(['CVE-2014-6271', 'CVE-2023-4966']);
      assert.deepEqual(Object.fromEntries(m), {
        'CVE-2014-6271': {
          kev: { dateAdded: '2022-01-28', dueDate: '2022-07-28', ransomware: false },
          epss: 0.99999,
          epssPercentile: 0.99993,
        },
        'CVE-2023-4966': {
          kev: { dateAdded: '2023-10-18', dueDate: '2023-11-08', ransomware: true },
          epss: null,
          epssPercentile: null,
        },
      });
    } finally {
      db.close();
    }
  });

  it('changes nothing when the EPSS file has a bad row, though the KEV file is good', async () => {
    const before = await status();
    const kev = JSON.parse(readFileSync(KEV, 'utf8')) as Record<string, unknown>;
    kev.catalogVersion = '2025.08.26';
    const newerKev = join(work, 'known_exploited_vulnerabilities.json');
    writeFileSync(newerKev, JSON.stringify(kev));
    const rows = readFileSync(EPSS, 'utf8').split('\n');
    rows[9] = 'CVE-1999-0008,1.5,0.89847';
    const badEpss = join(work, 'epss_scores-2026-09-30.csv');
    writeFileSync(badEpss, rows.join('\n'));
    const r = await feeds('import', '--kev', newerKev, '--epss', badEpss);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      'vulnvault: epss: epss_scores-2026-09-30.csv line 10: epss "1.5" is not a number between 0 and 1\n',
    );
    assert.deepEqual(await status(), before);
  });

  it('changes nothing when the KEV file is bad, though the EPSS file is good', async () => {
    const before = await status();
    const kev = JSON.parse(readFileSync(KEV, 'utf8')) as Record<string, unknown>;
    kev.count = 11;
    const badKev = join(work, 'kev-bad.json');
    writeFileSync(badKev, JSON.stringify(kev));
    const r = await feeds('import', '--kev', badKev, '--epss', EPSS);
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr,
      'vulnvault: kev: kev-bad.json count: says 11 but vulnerabilities has 10 entries (a cut-short or edited file?)\n',
    );
    assert.deepEqual(await status(), before);
  });

  it('refuses a missing file, and usage errors with exit code 2', async () => {
    const missing = await feeds('import', '--epss', join(work, 'nope.csv.gz'));
    assert.equal(missing.status, 1);
    assert.equal(missing.stderr, 'vulnvault: epss: cannot read nope.csv.gz (ENOENT)\n');
    const none = await feeds('import');
    assert.equal(none.status, 2);
    assert.equal(none.stderr, 'vulnvault: feeds import: give --kev FILE, --epss FILE or both\n');
    const sub = await feeds('fetch');
    assert.equal(sub.status, 2);
    assert.match(sub.stderr, /unknown subcommand 'fetch' \(expected: import, status\)/);
  });
});
