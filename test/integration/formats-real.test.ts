// Every upload format on files the scanners themselves wrote (issue 13):
// each fixture listed in test/fixtures/<format>/expected.json is uploaded
// over mTLS to a running server WITHOUT ?format= (the server detects it from
// the body, or the vendor media type names it) and must give exactly the
// expected counts and targets; re-uploaded it gives new 0 and fixed 0; cut
// short it is refused (400) and changes nothing; and none of the free-text
// markers listed for it is found in clear in any file of the data directory
// (DP 1.1: free text is sealed; titles never come from it).

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SCAN_FORMATS } from '../../src/formats/format.js';
import { get, grant, uploadScan, type Client } from '../helpers/scans.js';
import { makeTestDir, startVault, type RunningVault, type TestDir } from '../helpers/vault.js';

interface Expected {
  file: string;
  format: string;
  mediaType: string;
  target: string | null;
  received: number;
  distinct: number;
  targets?: string[];
  bySeverity?: Record<string, number>;
  markers: string[];
  /** The file cannot be told by its content (a bare `null`): sent with ?format=. */
  explicitFormat?: boolean;
}

const ROOT = join(import.meta.dirname, '..', 'fixtures');
const cases: (Expected & { dir: string })[] = readdirSync(ROOT)
  .filter((d) => existsSync(join(ROOT, d, 'expected.json')))
  .sort()
  .flatMap((d) =>
    (JSON.parse(readFileSync(join(ROOT, d, 'expected.json'), 'utf8')) as Expected[]).map((e) => ({
      ...e,
      dir: d,
    })),
  );

/** Every file under dir whose raw bytes contain the text. */
function filesWith(dir: string, text: string): string[] {
  const hits: string[] = [];
  const needle = Buffer.from(text, 'utf8');
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (readFileSync(p).includes(needle)) hits.push(p);
    }
  };
  walk(dir);
  return hits;
}

/** A copy of the file that no parser can accept: cut at 60 % (and, for CSV, an open quote). */
function broken(body: Buffer, e: Expected): Buffer {
  const cut = body.subarray(0, Math.floor(body.length * 0.6));
  return e.mediaType === 'text/csv' ? Buffer.concat([cut, Buffer.from('\n"open quote')]) : cut;
}

describe('every format on real scanner output', () => {
  let t: TestDir;
  let v: RunningVault;
  let scanner: Client;
  let reader: Client;
  before(async () => {
    t = await makeTestDir();
    cases.forEach((_, i) => {
      grant(t.dir, 'scanner', 'findings:write', `fx-${i}`);
      grant(t.dir, 'customer', 'findings:read', `fx-${i}`);
    });
    v = await startVault({ ...t.config, limits: { ...t.config.limits } });
    scanner = { port: v.port, ca: t.ca.certPem, cert: t.scanner };
    reader = { port: v.port, ca: t.ca.certPem, cert: t.customer };
  });
  after(async () => {
    await v?.close();
    t?.cleanup();
  });

  it('has fixtures for every format but the native batch', () => {
    const formats = new Set(cases.map((c) => c.format));
    for (const f of SCAN_FORMATS.filter((x) => x !== 'native')) {
      assert.ok(formats.has(f), `no real fixture for ${f}`);
    }
  });

  cases.forEach((e, i) => {
    it(`${e.dir}/${e.file} (${e.format}): exact counts, re-upload new 0, cut short refused, no free text in clear`, async () => {
      const org = `fx-${i}`;
      const body = readFileSync(join(ROOT, e.dir, e.file));
      const query = {
        ...(e.target === null ? {} : { target: e.target }),
        ...(e.explicitFormat ? { format: e.format } : {}),
      };
      const first = await uploadScan(scanner, org, body, e.mediaType, {}, query);
      assert.equal(first.status, 201, first.text);
      assert.equal(first.json.format, e.format, 'detected format');
      assert.equal(first.json.received, e.received, 'received');
      assert.equal(first.json.new, e.distinct, 'new');
      assert.equal(first.json.fixed, 0);
      if (e.targets) assert.deepEqual(first.json.targets, [...e.targets].sort());

      const list = await get(reader, `/v1/orgs/${org}/findings?limit=1000`);
      assert.equal(list.status, 200);
      assert.equal(list.json.items.length, e.distinct);
      if (e.bySeverity) {
        const by: Record<string, number> = {};
        for (const f of list.json.items as { severity: string }[]) {
          by[f.severity] = (by[f.severity] ?? 0) + 1;
        }
        const want = Object.fromEntries(Object.entries(e.bySeverity).filter(([, n]) => n > 0));
        assert.deepEqual(by, want, 'by severity');
      }

      const again = await uploadScan(scanner, org, body, e.mediaType, {}, query);
      assert.equal(again.status, 201, again.text);
      assert.equal(again.json.new, 0, 're-upload: new');
      assert.equal(again.json.fixed, 0, 're-upload: fixed');
      assert.equal(again.json.reopened, 0, 're-upload: reopened');
      assert.equal(again.json.unchanged + again.json.updated, e.distinct);
      assert.equal(again.json.unchanged, e.distinct, 're-upload: unchanged');

      // An empty file (a clean Nuclei run) has nothing to cut short.
      if (body.length >= 16) await cutShort();
      async function cutShort() {
        const before = (await get(reader, `/v1/orgs/${org}/findings?limit=1000`)).text;
        const bad = await uploadScan(
          scanner,
          org,
          broken(body, e),
          e.mediaType,
          {},
          {
            format: e.format,
            ...query,
          },
        );
        assert.equal(bad.status, 400, bad.text);
        assert.match(bad.json.message, /nothing was stored/);
        assert.equal((await get(reader, `/v1/orgs/${org}/findings?limit=1000`)).text, before);
      }

      for (const marker of e.markers) {
        assert.ok(
          body.includes(Buffer.from(marker, 'utf8')),
          `marker not in the fixture: ${marker}`,
        );
        assert.deepEqual(filesWith(t.dir, marker), [], `free text in clear: ${marker}`);
      }
    });
  });
});
