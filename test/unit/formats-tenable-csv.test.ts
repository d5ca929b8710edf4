// Tenable.io CSV exports (asset.* / definition.* columns) through the Nessus
// CSV parser: a real export (test/fixtures/tenable-csv/SOURCES) with exact
// counts, the same scanner as Nessus Pro, list-valued address columns and
// rows Tenable reports as fixed.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ScannedFinding } from '../../src/core/finding.js';
import { nessusCsvParser } from '../../src/formats/nessus-csv.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/tenable-csv/${name}`, import.meta.url));

async function parse(bytes: Buffer, cuts: number[] = []) {
  const findings: ScannedFinding[] = [];
  const assets: string[] = [];
  const p = nessusCsvParser({
    finding: (f) => void findings.push(f),
    asset: (s, a) => assets.push(`${s}/${a}`),
  });
  let at = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    await p.write(bytes.subarray(at, cut));
    at = cut;
  }
  await p.write(bytes.subarray(at));
  await p.end();
  return { findings, assets: [...new Set(assets)] };
}

const identity = (f: ScannedFinding) =>
  [f.asset, f.scanner, f.category, f.pluginId, f.port, f.protocol, f.fingerprint].join('|');

const cutsFor = (len: number) => fc.array(fc.integer({ min: 1, max: len - 1 }), { maxLength: 12 });

describe('Tenable.io CSV exports', () => {
  it('read the real export: 99 findings on 99 hosts, all low, scanner nessus', async () => {
    const { findings, assets } = await parse(fixture('tenable-io-vulns.csv'));
    assert.equal(findings.length, 99);
    assert.equal(new Set(findings.map(identity)).size, 99);
    assert.equal(new Set(findings.map((f) => f.pluginId)).size, 25);
    assert.deepEqual(
      new Set(assets),
      new Set(Array.from({ length: 99 }, (_, i) => `nessus/10.0.0.${i + 1}`)),
    );
    assert.ok(findings.every((f) => f.severity === 'low' && f.scanner === 'nessus'));
    assert.ok(findings.every((f) => f.protocol === 'tcp'));
  });

  it('map definition.* and asset.* columns to the same fields as a Nessus export', async () => {
    const { findings } = await parse(fixture('tenable-io-vulns.csv'));
    const f = findings[0] as ScannedFinding;
    assert.deepEqual(
      [f.asset, f.pluginId, f.title, f.port, f.protocol, f.severityRaw],
      ['10.0.0.1', '33851', 'Network daemons not managed by the package system', 0, 'tcp', 'Low'],
    );
    assert.deepEqual(
      [f.cvss3Score, f.cvss3Vector, f.cvss2Score, f.cvss2Vector],
      [
        3.1,
        'CVSS:3.0/AV:N/AC:H/PR:L/UI:N/S:U/C:N/I:L/A:N',
        2.1,
        'CVSS2#AV:N/AC:H/Au:S/C:N/I:P/A:N',
      ],
    );
    assert.match(f.description, /^Some daemon processes on the remote host/, 'the synopsis');
    assert.match(f.solution, /^Use packages supplied by the operating system vendor/);
    assert.match(f.evidence, /The following running daemon is not managed by RPM/);
    const java = findings.find((x) => x.pluginId === '166552' && x.asset === '10.0.0.10');
    assert.deepEqual(java?.cves, [
      'CVE-2022-21619',
      'CVE-2022-21624',
      'CVE-2022-21626',
      'CVE-2022-21628',
    ]);
  });

  it('take the first address of a list column, fall back to definition.severity, and skip fixed rows', async () => {
    const csv = Buffer.from(
      'asset.name,asset.ipv4_addresses,definition.id,definition.name,severity,definition.severity,port,protocol,state\n' +
        'web-1,"10.1.0.5, 10.1.0.6",19506,Nessus Scan Information,,Info,0,TCP,OPEN\n' +
        'web-1,"10.1.0.5, 10.1.0.6",42873,SSL Medium Strength Cipher Suites,High,Medium,443,TCP,REOPENED\n' +
        'db-1,,11219,Nessus SYN scanner,,Info,5432,TCP,FIXED\n',
    );
    const { findings, assets } = await parse(csv);
    assert.deepEqual(
      assets,
      ['nessus/10.1.0.5', 'nessus/db-1'],
      'the fixed row still covers its host',
    );
    assert.deepEqual(
      findings.map((f) => [f.asset, f.pluginId, f.severity, f.severityRaw, f.port]),
      [
        ['10.1.0.5', '19506', 'info', 'Info', 0],
        ['10.1.0.5', '42873', 'high', 'High', 443],
      ],
    );
  });

  it('name the Tenable.io columns when required ones are missing', async () => {
    await assert.rejects(parse(Buffer.from('asset.name,severity\nweb-1,High\n')), (err: Error) => {
      assert.equal((err as { code?: string }).code, 'csv_missing_columns');
      assert.match(err.message, /"Plugin ID" \(or "Plugin", "definition\.id"\)/);
      assert.doesNotMatch(err.message, /"Host"/, 'asset.name is a host column');
      return true;
    });
  });

  it('give the same identities on a second parse', async () => {
    const a = await parse(fixture('tenable-io-vulns.csv'));
    const b = await parse(fixture('tenable-io-vulns.csv'));
    assert.deepEqual(b.findings.map(identity), a.findings.map(identity));
  });

  it('give the same findings whatever the chunk boundaries', async () => {
    const bytes = fixture('tenable-io-vulns.csv');
    const whole = await parse(bytes);
    await fc.assert(
      fc.asyncProperty(cutsFor(bytes.length), async (cuts) => {
        assert.deepEqual(await parse(bytes, cuts), whole);
      }),
      { numRuns: 20 },
    );
  });
});
