// The Grype parser on reports Grype wrote (DefectDojo's unit-test scans, see
// test/fixtures/grype/SOURCES): exact counts across Grype 0.7 to 0.96, the
// target that comes after the matches, identities that survive an upgrade,
// VEX verdicts, errors with a position, and chunk-split invariance.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ParseOptions } from '../../src/formats/format.js';
import { grypeParser } from '../../src/formats/grype.js';
import { bySeverity, cutsFor, identity, parse, refusal } from '../helpers/parse-scan.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/grype/${name}`, import.meta.url));
const grype = (name: string, options: ParseOptions = {}) =>
  parse(grypeParser, fixture(name), options);

describe('Grype parser on real reports', () => {
  it('reads an image scan (0.28): Negligible as info, a duplicate match merged', async () => {
    const { findings, assets } = await grype('check_all_fields.json');
    assert.deepEqual(assets, ['grype|vulnerable-image:latest|']);
    assert.equal(findings.length, 6);
    assert.equal(new Set(findings.map(identity)).size, 5, 'Django is matched twice');
    assert.deepEqual(bySeverity(findings), { info: 1, high: 2, critical: 2 });
    const [krb, redis] = findings;
    assert.deepEqual(
      [krb?.title, krb?.severity, krb?.severityRaw, krb?.cvss2Score, krb?.solution],
      [
        'CVE-2004-0971 in libgssapi-krb5-2',
        'info',
        'Negligible',
        2.1,
        'No fixed version is available yet.',
      ],
    );
    assert.deepEqual(
      [redis?.location, redis?.cvss3Score, redis?.cvss3Vector, redis?.cves],
      [
        'pkg:pypi/redis@4.0.2',
        8.8,
        'CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H',
        ['CVE-2021-32626'],
      ],
    );
    assert.ok(findings.every((f) => f.scanner === 'grype' && f.category === '' && f.port === 0));
  });

  it('reads a key-sorted 0.96 report: two copies of a jar stay two findings', async () => {
    const { findings, assets } = await grype('issue_9618.json');
    assert.deepEqual(assets, ['grype|quay.io/cloudservices/xjoin-kafka-connect-strimzi:latest|']);
    assert.equal(findings.length, 35);
    assert.equal(new Set(findings.map(identity)).size, 35);
    assert.deepEqual(bySeverity(findings), { critical: 1, high: 19, medium: 13, low: 2 });
    const avro = findings.filter(
      (f) => f.pluginId === 'CVE-2023-39410' && f.title.endsWith(' avro'),
    );
    assert.deepEqual(
      avro.map((f) => f.location),
      ['pkg:maven/org.apache.avro/avro@1.11.1', 'pkg:maven/org.apache.avro/avro@1.9.2'],
    );
    // no severity word: the related NVD record's CVSS v3 (7.5)
    const unrated = findings.find((f) => f.pluginId === 'CVE-2024-26308');
    assert.deepEqual(
      [unrated?.severity, unrated?.severityRaw, unrated?.cvss3Score],
      ['high', '', 7.5],
    );
  });

  it('reads a 0.7 report (cvssV2/cvssV3, fixedInVersion), Unknown as info', async () => {
    const { findings, assets } = await grype('many_vulns3.json');
    assert.deepEqual(assets, ['grype|defectdojo/defectdojo-django:1.13.1|']);
    assert.equal(findings.length, 327);
    assert.equal(new Set(findings.map(identity)).size, 327);
    assert.deepEqual(bySeverity(findings), {
      info: 116,
      low: 27,
      medium: 155,
      high: 24,
      critical: 5,
    });
    assert.equal(findings.filter((f) => f.cvss3Score !== null).length, 108);
    assert.equal(findings.filter((f) => f.solution.startsWith('Upgrade ')).length, 28);
  });

  it('needs ?target= for a scan of "."', async () => {
    const err = await refusal(grypeParser, fixture('many_vulns4.json'));
    assert.equal(err.code, 'scan_target_missing');
    const { findings, assets } = await grype('many_vulns4.json', { target: 'components' });
    assert.deepEqual(assets, ['grype|components|']);
    assert.equal(findings.length, 9);
    assert.equal(new Set(findings.map(identity)).size, 9);
    assert.deepEqual(bySeverity(findings), { medium: 5, high: 2, critical: 2 });
  });

  it('takes a report without matches as a clean scan of its target', async () => {
    assert.deepEqual(await grype('no_vuln.json'), {
      findings: [],
      assets: ['grype|busybox:latest|'],
    });
  });

  it('streams the findings at once when ?target= names the target', async () => {
    const bytes = fixture('check_all_fields.json');
    let seen = 0;
    const p = grypeParser(
      { finding: () => void seen++, asset: () => undefined },
      { target: 'img' },
    );
    await p.write(bytes.subarray(0, bytes.indexOf('"source"')));
    assert.equal(seen, 6, 'before the source was read');
    await p.write(bytes.subarray(bytes.indexOf('"source"')));
    await p.end();
  });
});

describe('Grype finding identity', () => {
  it('is the same on a re-parse', async () => {
    const a = await grype('many_vulns3.json');
    const b = await grype('many_vulns3.json');
    assert.deepEqual(a.findings.map(identity), b.findings.map(identity));
  });

  it('survives an upgrade that is still vulnerable (version in the purl and the paths)', async () => {
    for (const [name, from, to] of [
      ['check_all_fields.json', '4.0.2', '4.0.3'], // redis-4.0.2.dist-info/METADATA
      ['issue_9618.json', '1.9.2', '1.9.3'], // libs/avro/avro-1.9.2.jar
    ] as const) {
      const before = fixture(name).toString();
      const after = before.replaceAll(from, to);
      assert.notEqual(after, before);
      const a = (await parse(grypeParser, Buffer.from(before))).findings;
      const b = (await parse(grypeParser, Buffer.from(after))).findings;
      assert.deepEqual(b.map(identity), a.map(identity));
      assert.notDeepEqual(
        b.map((f) => f.location),
        a.map((f) => f.location),
      );
    }
  });
});

describe('Grype ignoredMatches', () => {
  it('imports a match a VEX statement set aside, with the verdict; skips the others', async () => {
    const doc = JSON.parse(fixture('check_all_fields.json').toString());
    const [vex, filtered, ...rest] = doc.matches;
    doc.matches = rest;
    doc.ignoredMatches = [
      {
        ...vex,
        appliedIgnoreRules: [
          {
            namespace: '',
            'vex-status': 'not_affected',
            'vex-justification': 'vulnerable_code_not_in_execute_path',
            reason: 'krb5-send-pr is not shipped',
          },
        ],
      },
      { ...filtered, appliedIgnoreRules: [{ namespace: '', 'fix-state': 'unknown' }] },
    ];
    const { findings } = await parse(grypeParser, Buffer.from(JSON.stringify(doc)));
    assert.equal(findings.length, 5);
    const f = findings.find((x) => x.pluginId === 'CVE-2004-0971');
    assert.deepEqual(f?.analysis, {
      state: 'not_affected',
      justification: 'code_not_reachable',
      response: [],
      detail: 'VEX not_affected: krb5-send-pr is not shipped',
    });
    assert.equal(
      findings.find((x) => x.pluginId === 'CVE-2021-32626'),
      undefined,
    );
  });
});

describe('Grype parser refusing a report', () => {
  it('gives the byte offset of a syntax error without echoing input', async () => {
    const text = fixture('check_all_fields.json').toString();
    const at = text.indexOf('"artifact"') + 10;
    const err = await refusal(grypeParser, `${text.slice(0, at)}#${text.slice(at + 1)}`);
    assert.equal(err.code, 'invalid_json');
    assert.match(err.message, new RegExp(`at byte ${Buffer.byteLength(text.slice(0, at))}\\)`));
    assert.doesNotMatch(err.message, /artifact|#/);
  });

  it('refuses other shapes with grype_invalid or scan_target_missing', async () => {
    const d = '"descriptor":{"name":"grype"}';
    const src = '"source":{"type":"image","target":{"userInput":"img"}}';
    const cases: [string, ParseOptions, string, RegExp][] = [
      [`{"matches":[],${src}}`, {}, 'grype_invalid', /descriptor\.name must be "grype"/],
      [
        `{"matches":[{"vulnerability":{},"artifact":{"name":"secretname"}}],${src},${d}}`,
        {},
        'grype_invalid',
        /^Grype: matches\[0\] has no vulnerability\.id;/,
      ],
      [
        `{"matches":[{"vulnerability":{"id":"CVE-1"}}],${src},${d}}`,
        {},
        'grype_invalid',
        /matches\[0\] has no artifact/,
      ],
      [`{"matches":{"a":1},${src},${d}}`, {}, 'grype_invalid', /matches must be an array/],
      [`{"matches":[],${d}}`, {}, 'scan_target_missing', /\?target=/],
      [
        `{"matches":[],"source":{"type":"unknown","target":"unknown"},${d}}`,
        {},
        'scan_target_missing',
        /\?target=/,
      ],
      [
        `{"matches":[],"source":{"target":"${'a'.repeat(256)}"},${d}}`,
        {},
        'grype_invalid',
        /longer than 255/,
      ],
      ['[]', {}, 'grype_invalid', /must be a JSON object/],
    ];
    for (const [doc, options, code, message] of cases) {
      const err = await refusal(grypeParser, doc, options);
      assert.equal(err.code, code, doc);
      assert.match(err.message, message, doc);
      assert.doesNotMatch(err.message, /secretname|aaaa/);
    }
  });

  it('holds at most 20,000 matches waiting for the source, then asks for ?target=', async () => {
    const match = '{"vulnerability":{"id":"CVE-2020-0001"},"artifact":{"name":"p","version":"1"}}';
    const doc = `{"matches":[${Array(20_001).fill(match).join(',')}],"source":{"target":"img"},"descriptor":{"name":"grype"}}`;
    const err = await refusal(grypeParser, doc);
    assert.equal(err.code, 'scan_target_missing');
    assert.match(err.message, /comes after more than 20000 matches, too many to hold/);
    const { findings } = await parse(grypeParser, Buffer.from(doc), { target: 'img' });
    assert.equal(findings.length, 20_001);
  });
});

describe('Grype parser and chunk boundaries', () => {
  for (const name of ['check_all_fields.json', 'no_vuln.json']) {
    it(`gives the same findings for ${name} however it is split`, async () => {
      const bytes = fixture(name);
      const whole = await parse(grypeParser, bytes);
      await fc.assert(
        fc.asyncProperty(cutsFor(bytes.length), async (cuts) => {
          assert.deepEqual(await parse(grypeParser, bytes, {}, cuts), whole);
        }),
        { numRuns: 30 },
      );
    });
  }
});
