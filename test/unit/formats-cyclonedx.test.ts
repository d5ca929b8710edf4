// CycloneDX JSON and XML on BOMs the tools wrote (DefectDojo's test scans,
// grype, syft and Trivy snapshots): the BOM's subject is the target, one
// finding per (vulnerability, affected component) keyed by the component's
// purl without version, so a version bump keeps the identity and a bump that
// fixes the vulnerabilities lets the store mark them fixed.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ScannedFinding, Severity } from '../../src/core/finding.js';
import { PENDING_LIMIT } from '../../src/formats/cyclonedx-common.js';
import { cycloneDxXmlParser } from '../../src/formats/cyclonedx-xml.js';
import { cycloneDxParser } from '../../src/formats/cyclonedx.js';
import type { ParseOptions, ParserFactory } from '../../src/formats/format.js';
import {
  identityKey,
  purlName,
  purlWithoutVersion,
  withoutVersionSuffix,
} from '../../src/formats/purl.js';

const dir = new URL('../fixtures/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, dir));

async function parse(
  factory: ParserFactory,
  bytes: Buffer,
  options: ParseOptions = {},
  cuts: number[] = [],
) {
  const findings: ScannedFinding[] = [];
  const assets: string[] = [];
  const p = factory(
    {
      finding: (f) => void findings.push(f),
      asset: (scanner, a) => assets.push(`${scanner}|${a}`),
    },
    options,
  );
  let at = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    await p.write(bytes.subarray(at, cut));
    at = cut;
  }
  await p.write(bytes.subarray(at));
  await p.end();
  return { findings, assets };
}

async function refusal(factory: ParserFactory, bytes: Buffer, options: ParseOptions = {}) {
  try {
    await parse(factory, bytes, options);
  } catch (err) {
    return err as { code: string; message: string };
  }
  assert.fail('the document was accepted');
}

const identity = (f: ScannedFinding) =>
  [f.asset, f.scanner, f.category, f.pluginId, f.port, f.protocol, f.fingerprint].join('|');

/** Severity counts over distinct identities, the last report winning (as the store does). */
function bySeverity(findings: ScannedFinding[]): Partial<Record<Severity, number>> {
  const last = new Map<string, Severity>();
  for (const f of findings) last.set(identity(f), f.severity);
  const out: Partial<Record<Severity, number>> = {};
  for (const s of last.values()) out[s] = (out[s] ?? 0) + 1;
  return out;
}

const cutsFor = (len: number) => fc.array(fc.integer({ min: 1, max: len - 1 }), { maxLength: 12 });

const LOG4J_TARGET = './configuration/.m2/repository/org/apache/logging/log4j/log4j-core/2.13.2';
const LOG4J_FP = 'pkg:maven/org.apache.logging.log4j/log4j-core';

describe('CycloneDX JSON', () => {
  it('reads the grype log4j BOM: 8 findings on the subject, keyed by purl without version', async () => {
    const { findings, assets } = await parse(cycloneDxParser, fixture('cyclonedx/log4j.json'));
    assert.deepEqual(assets, [`cyclonedx|${LOG4J_TARGET}`]);
    assert.equal(findings.length, 8);
    assert.equal(new Set(findings.map(identity)).size, 8);
    assert.deepEqual(bySeverity(findings), { critical: 4, high: 1, medium: 3 });
    const f = findings.find((x) => x.pluginId === 'CVE-2021-44228');
    assert.ok(f);
    assert.equal(f.title, 'CVE-2021-44228 in log4j-core');
    assert.equal(f.asset, LOG4J_TARGET);
    assert.equal(f.scanner, 'cyclonedx');
    assert.equal(f.fingerprint, LOG4J_FP);
    assert.equal(f.location, 'pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2');
    assert.deepEqual(
      [f.severity, f.severityRaw, f.cvss3Score, f.cvss3Vector, f.cvss2Score, f.cvss2Vector],
      [
        'critical',
        'critical',
        10,
        'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
        10,
        'AV:N/AC:M/Au:N/C:C/I:C/A:C',
      ],
    );
    assert.deepEqual(f.cves, ['CVE-2021-44228']);
    assert.deepEqual(f.analysis, {
      state: 'in_triage',
      justification: null,
      response: [],
      detail: '',
    });
    assert.match(f.description, /^Apache Log4j2 2\.0-beta9 through 2\.15\.0/);
    for (const x of findings) {
      assert.match(
        x.title,
        /^(CVE-\d{4}-\d+|GHSA-[a-z0-9-]+) in log4j-core$/,
        'the id and the package only',
      );
    }
  });

  it('lets the store mark the log4j findings fixed when log4j-core is bumped to 2.17.1', async () => {
    const before = await parse(cycloneDxParser, fixture('cyclonedx/log4j.json'));
    const after = await parse(cycloneDxParser, fixture('cyclonedx/log4j-2.17.1.json'));
    assert.deepEqual(after.assets, before.assets, 'the same target is declared');
    assert.equal(after.findings.length, 0);
    // What a store does with the declared coverage: open findings of
    // (scanner, target) that the new scan does not report become fixed.
    const covered = new Set(after.assets);
    const reported = new Set(after.findings.map(identity));
    const fixed = before.findings.filter(
      (f) => covered.has(`${f.scanner}|${f.asset}`) && !reported.has(identity(f)),
    );
    assert.equal(fixed.length, 8);
    assert.ok(fixed.some((f) => f.pluginId === 'CVE-2021-44228' && f.severity === 'critical'));
  });

  it('keeps the identity when a version moves and the vulnerability stays', async () => {
    const text = fixture('cyclonedx/log4j.json').toString('utf8');
    const bumped = Buffer.from(text.replaceAll('log4j-core@2.13.2', 'log4j-core@2.14.1'));
    const a = await parse(cycloneDxParser, fixture('cyclonedx/log4j.json'));
    const b = await parse(cycloneDxParser, bumped);
    assert.deepEqual(b.findings.map(identity), a.findings.map(identity));
    assert.equal(b.findings[0]?.location, 'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1');
  });

  it('resolves refs through nested components', async () => {
    const flat = await parse(cycloneDxParser, fixture('cyclonedx/log4j.json'));
    const nested = await parse(cycloneDxParser, fixture('cyclonedx/nested-component-log4j.json'));
    assert.deepEqual(nested.findings, flat.findings);
  });

  it('reads a Trivy image BOM: the image purl without digest and qualifiers is the target', async () => {
    const { findings, assets } = await parse(cycloneDxParser, fixture('cyclonedx/issue_9277.json'));
    assert.deepEqual(assets, ['cyclonedx|pkg:oci/ubuntu']);
    assert.equal(findings.length, 14, '10 vulnerabilities, 14 affected packages');
    assert.equal(new Set(findings.map(identity)).size, 14);
    assert.deepEqual(bySeverity(findings), { high: 5, medium: 7, low: 2 });
    const libc = findings.filter((f) => f.pluginId === 'CVE-2016-20013');
    assert.deepEqual(
      libc.map((f) => [f.fingerprint, f.title]),
      [
        ['pkg:deb/ubuntu/libc-bin', 'CVE-2016-20013 in libc-bin'],
        ['pkg:deb/ubuntu/libc6', 'CVE-2016-20013 in libc6'],
      ],
    );
    assert.equal(
      libc[0]?.location,
      'pkg:deb/ubuntu/libc-bin@2.35-0ubuntu3.5?arch=amd64&distro=ubuntu-22.04',
    );
    // A ref that names no listed component but is a purl: used as the purl.
    const tar = findings.find((f) => f.pluginId === 'TEMP-0290435-0B57B5');
    assert.deepEqual(
      [tar?.fingerprint, tar?.title],
      ['pkg:deb/debian/tar', 'TEMP-0290435-0B57B5 in tar'],
    );
  });

  it('resolves random bom-refs (jake) to purls, and needs ?target= when the BOM names no subject', async () => {
    const bytes = fixture('cyclonedx/jake2.json');
    const err = await refusal(cycloneDxParser, bytes);
    assert.equal(err.code, 'scan_target_missing');
    const { findings, assets } = await parse(cycloneDxParser, bytes, { target: 'shop-api' });
    assert.deepEqual(assets, ['cyclonedx|shop-api']);
    assert.equal(findings.length, 7);
    assert.equal(new Set(findings.map(identity)).size, 7);
    assert.deepEqual(bySeverity(findings), { high: 3, medium: 4 });
    assert.ok(
      findings.every(
        (f) => f.fingerprint === 'pkg:pypi/django' && f.location === 'pkg:pypi/django@2.0',
      ),
    );
    assert.deepEqual(findings[0]?.cves, ['CVE-2021-33203'], 'from references[].id');
    assert.equal(findings[0]?.title, 'c7129ff8-08bc-4afe-82ec-7d97b9491741 in Django');
    assert.match(findings[0]?.evidence ?? '', /^Django before 2\.2\.24/, 'detail is evidence');
  });

  it('maps a VEX analysis one to one, and recommendation to solution', async () => {
    const { findings } = await parse(
      cycloneDxParser,
      fixture('cyclonedx/valid-vulnerability-1.4.json'),
      {
        target: 't',
      },
    );
    assert.equal(findings.length, 1);
    const f = findings[0];
    assert.deepEqual(f?.analysis, {
      state: 'not_affected',
      justification: 'code_not_reachable',
      response: ['will_not_fix', 'update'],
      detail:
        'An optional explanation of why the application is not affected by the vulnerable component.',
    });
    assert.equal(
      f?.solution,
      'Upgrade com.fasterxml.jackson.core:jackson-databind to version 2.6.7.5, 2.8.11.1, 2.9.5 or higher.',
    );
    assert.deepEqual(
      [f?.pluginId, f?.title, f?.severity, f?.cves],
      [
        'SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111',
        'SNYK-JAVA-COMFASTERXMLJACKSONCORE-32111 in jackson-databind',
        'critical',
        ['CVE-2018-7489'],
      ],
    );
  });

  it('rates a score-only CVSS rating on the CVSS scale, and keeps an unknown ref as is', async () => {
    const { findings } = await parse(cycloneDxParser, fixture('cyclonedx/no-severity.json'), {
      target: 't',
    });
    assert.deepEqual(
      findings.map((f) => [f.severity, f.severityRaw, f.fingerprint, f.location, f.title]),
      [['critical', 'CVSSv3 10', 'gerbwetbqt', 'gerbwetbqt', 'CVE-2021-44228 in gerbwetbqt']],
    );
  });

  it('reads grype 1.7 output, where EPSS and KEV are ratings of method "other"', async () => {
    const { findings, assets } = await parse(
      cycloneDxParser,
      fixture('cyclonedx/grype-image-1.7.json'),
    );
    assert.deepEqual(assets, ['cyclonedx|user-input']);
    assert.deepEqual(
      findings.map((f) => [f.pluginId, f.severity, f.fingerprint, f.location]),
      [
        ['CVE-1999-0001', 'low', 'package-1', 'package-1@1.1.1'],
        ['CVE-1999-0002', 'critical', 'pkg:deb/package-2', 'pkg:deb/package-2@2.2.2'],
      ],
    );
    const other = Buffer.from(
      JSON.stringify({
        bomFormat: 'CycloneDX',
        specVersion: '1.6',
        vulnerabilities: [
          {
            id: 'CVE-1',
            ratings: [{ score: 9.7, method: 'other' }],
            affects: [{ ref: 'pkg:npm/a@1' }],
          },
        ],
      }),
    );
    const [f] = (await parse(cycloneDxParser, other, { target: 't' })).findings;
    assert.deepEqual(
      [f?.severity, f?.severityRaw],
      ['info', 'unrated'],
      'a non-CVSS score rates nothing',
    );
  });

  it('accepts clean BOMs: no vulnerabilities key, or an empty list; the target is declared', async () => {
    const syft = await parse(cycloneDxParser, fixture('cyclonedx/syft-image-clean.json'));
    assert.deepEqual(syft, { findings: [], assets: ['cyclonedx|user-image-input'] });
    const trivy = await parse(cycloneDxParser, fixture('cyclonedx/trivy-conda-clean.json'));
    assert.deepEqual(trivy, { findings: [], assets: ['cyclonedx|testdata/fixtures/repo/conda'] });
    const bare = Buffer.from('{"bomFormat":"CycloneDX","specVersion":"1.5","vulnerabilities":[]}');
    assert.equal((await refusal(cycloneDxParser, bare)).code, 'scan_target_missing');
    assert.deepEqual(await parse(cycloneDxParser, bare, { target: 'app' }), {
      findings: [],
      assets: ['cyclonedx|app'],
    });
  });

  it('prefers the subject over ?target=, its purl over its name, without version or qualifiers', async () => {
    const bom = (component: object) =>
      Buffer.from(
        JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', metadata: { component } }),
      );
    const target = async (component: object) =>
      (await parse(cycloneDxParser, bom(component), { target: 'given' })).assets;
    assert.deepEqual(
      await target({ name: 'web', group: 'acme', purl: 'pkg:npm/%40acme/web@2.0.0?x=1#sub' }),
      ['cyclonedx|pkg:npm/%40acme/web'],
    );
    assert.deepEqual(await target({ name: 'web', group: 'acme', version: '2.0.0' }), [
      'cyclonedx|acme/web',
    ]);
    assert.deepEqual(await target({ type: 'application' }), ['cyclonedx|given']);
  });

  it('gives the same findings when vulnerabilities come before the components', async () => {
    const doc = JSON.parse(fixture('cyclonedx/jake2.json').toString('utf8')) as Record<
      string,
      unknown
    >;
    const { vulnerabilities, ...rest } = doc;
    const reordered = Buffer.from(JSON.stringify({ vulnerabilities, ...rest }));
    const a = await parse(cycloneDxParser, fixture('cyclonedx/jake2.json'), { target: 't' });
    const b = await parse(cycloneDxParser, reordered, { target: 't' });
    assert.deepEqual(b.findings.map(identity).sort(), a.findings.map(identity).sort());
    assert.deepEqual(
      b.findings.map((f) => f.location),
      a.findings.map((f) => f.location),
    );
  });

  it('holds at most PENDING_LIMIT characters of vulnerabilities waiting for their components', async () => {
    const text = 'x'.repeat(60_000);
    const n = Math.ceil(PENDING_LIMIT / text.length) + 1;
    const vulnerabilities = Array.from({ length: n }, (_, i) => ({
      id: `V-${i}`,
      description: text,
      affects: [{ ref: `ref-${i}` }],
    }));
    const bytes = Buffer.from(
      JSON.stringify({
        bomFormat: 'CycloneDX',
        specVersion: '1.6',
        vulnerabilities,
        components: [],
      }),
    );
    const err = await refusal(cycloneDxParser, bytes, { target: 't' });
    assert.equal(err.code, 'cyclonedx_invalid');
    assert.match(
      err.message,
      /vulnerability \d+ and those before it refer to components not listed yet/,
    );
  });

  it('refuses a metadata.component that comes after the vulnerabilities', async () => {
    const bytes = Buffer.from(
      JSON.stringify({
        bomFormat: 'CycloneDX',
        specVersion: '1.6',
        vulnerabilities: [{ id: 'CVE-1', affects: [{ ref: 'pkg:npm/a@1' }] }],
        metadata: { component: { name: 'late' } },
      }),
    );
    const err = await refusal(cycloneDxParser, bytes, { target: 't' });
    assert.equal(err.code, 'cyclonedx_invalid');
    assert.match(err.message, /metadata\.component comes after the vulnerabilities/);
  });

  it('refuses unknown analysis values, naming the field and the position, not the value', async () => {
    const doc = (analysis: object) =>
      Buffer.from(
        JSON.stringify({
          bomFormat: 'CycloneDX',
          specVersion: '1.5',
          vulnerabilities: [
            { id: 'CVE-1', affects: [{ ref: 'pkg:npm/a@1' }] },
            { id: 'CVE-2', analysis, affects: [{ ref: 'pkg:npm/a@1' }] },
          ],
        }),
      );
    for (const [analysis, field] of [
      [{ state: 'SECRET-state' }, 'analysis.state'],
      [{ state: 'not_affected', justification: 'SECRET-why' }, 'analysis.justification'],
      [{ state: 'exploitable', response: ['update', 'SECRET-resp'] }, 'analysis.response'],
    ] as const) {
      const err = await refusal(cycloneDxParser, doc(analysis), { target: 't' });
      assert.equal(err.code, 'cyclonedx_invalid');
      assert.match(
        err.message,
        new RegExp(`^CycloneDX: vulnerability 2: ${field.replace('.', '\\.')} `),
      );
      assert.doesNotMatch(err.message, /SECRET/);
    }
    const ok = await parse(cycloneDxParser, doc({ state: 'resolved_with_pedigree' }), {
      target: 't',
    });
    assert.equal(ok.findings[1]?.analysis?.state, 'resolved');
  });

  it('refuses malformed and foreign documents with a position and without echoing them', async () => {
    const log4j = fixture('cyclonedx/log4j.json');
    const truncated = await refusal(cycloneDxParser, log4j.subarray(0, 5000));
    assert.equal(truncated.code, 'invalid_json');
    assert.match(truncated.message, /truncated/);
    const broken = Buffer.from(
      log4j.toString('utf8').replace('"CVE-2021-44228"', '"CVE-2021-44228" SECRET'),
    );
    const err = await refusal(cycloneDxParser, broken);
    assert.equal(err.code, 'invalid_json');
    assert.match(err.message, /at byte \d+/);
    assert.doesNotMatch(err.message, /SECRET|CVE/);
    const v12 = Buffer.from('{"bomFormat":"CycloneDX","specVersion":"1.2","components":[]}');
    assert.match(
      (await refusal(cycloneDxParser, v12)).message,
      /specVersion must be one of 1\.4, 1\.5, 1\.6, 1\.7/,
    );
    const sarif = Buffer.from('{"version":"2.1.0","runs":[]}');
    assert.equal((await refusal(cycloneDxParser, sarif)).code, 'cyclonedx_invalid');
    const noId = Buffer.from(
      '{"bomFormat":"CycloneDX","specVersion":"1.4","vulnerabilities":[{"affects":[{"ref":"pkg:npm/a@1"}]}]}',
    );
    assert.match(
      (await refusal(cycloneDxParser, noId, { target: 't' })).message,
      /vulnerability 1 has no id/,
    );
  });

  it('gives the same findings whatever the chunk boundaries', async () => {
    for (const [name, runs] of [
      ['cyclonedx/log4j.json', 40],
      ['cyclonedx/jake2.json', 15],
      ['cyclonedx/issue_9277.json', 5],
    ] as const) {
      const bytes = fixture(name);
      const whole = await parse(cycloneDxParser, bytes, { target: 't' });
      await fc.assert(
        fc.asyncProperty(cutsFor(bytes.length), async (cuts) => {
          assert.deepEqual(await parse(cycloneDxParser, bytes, { target: 't' }, cuts), whole);
        }),
        { numRuns: runs },
      );
    }
  });

  it('gives identical identities when the same file is parsed again', async () => {
    const bytes = fixture('cyclonedx/issue_9277.json');
    const a = await parse(cycloneDxParser, bytes);
    const b = await parse(cycloneDxParser, bytes);
    assert.deepEqual(b.findings.map(identity), a.findings.map(identity));
  });

  it('keeps descriptions out of titles, locations and targets', async () => {
    for (const name of [
      'log4j.json',
      'issue_9277.json',
      'jake2.json',
      'valid-vulnerability-1.4.json',
    ]) {
      const { findings } = await parse(cycloneDxParser, fixture(`cyclonedx/${name}`), {
        target: 't',
      });
      for (const f of findings) {
        for (const text of [f.description, f.evidence, f.solution, f.analysis?.detail ?? '']) {
          const probe = text.trim().slice(0, 40);
          if (probe.length < 12) continue;
          for (const clear of [f.title, f.location, f.asset, f.fingerprint]) {
            assert.ok(!clear.includes(probe), `${name}: free text in a clear field`);
          }
        }
      }
    }
  });
});

describe('CycloneDX XML', () => {
  it('gives the same findings as the JSON encoding of the same BOM', async () => {
    const xml = await parse(cycloneDxXmlParser, fixture('cyclonedx-xml/log4j.xml'));
    const json = await parse(cycloneDxParser, fixture('cyclonedx/log4j.json'));
    assert.equal(xml.findings.length, 8);
    assert.deepEqual(xml, json);
    const vx = await parse(
      cycloneDxXmlParser,
      fixture('cyclonedx-xml/valid-vulnerability-1.4.xml'),
      {
        target: 't',
      },
    );
    const vj = await parse(cycloneDxParser, fixture('cyclonedx/valid-vulnerability-1.4.json'), {
      target: 't',
    });
    assert.deepEqual(vx, vj);
  });

  it('lets the store mark the log4j findings fixed after the bump (XML)', async () => {
    const before = await parse(cycloneDxXmlParser, fixture('cyclonedx-xml/log4j.xml'));
    const after = await parse(cycloneDxXmlParser, fixture('cyclonedx-xml/log4j-2.17.1.xml'));
    assert.deepEqual(after, { findings: [], assets: before.assets });
  });

  it('accepts a clean BOM (syft 1.5) and declares its subject', async () => {
    const clean = await parse(cycloneDxXmlParser, fixture('cyclonedx-xml/syft-1.5-clean.xml'));
    assert.deepEqual(clean, { findings: [], assets: ['cyclonedx|go.mod'] });
  });

  it('refuses CycloneDX 1.2 (vulnerability extension) with the versions it takes', async () => {
    const err = await refusal(cycloneDxXmlParser, fixture('cyclonedx-xml/spec1.xml'));
    assert.equal(err.code, 'cyclonedx_invalid');
    assert.match(err.message, /CycloneDX XML 1\.2 is not supported \(1\.4, 1\.5, 1\.6, 1\.7 are\)/);
  });

  const NS = 'http://cyclonedx.org/schema/bom/1.6';
  const xmlBom = (body: string) =>
    Buffer.from(
      `<?xml version="1.0"?>\n<bom xmlns="${NS}" xmlns:x="urn:other" version="1">${body}</bom>`,
    );

  it('reads nested components, skips other namespaces and tool components, decodes entities', async () => {
    const bytes = xmlBom(
      '<metadata><tools><components><component bom-ref="tool"><name>trivy</name><purl>pkg:golang/trivy@1</purl></component></components></tools>' +
        '<component type="container" bom-ref="img"><name>shop &amp; co</name><components>' +
        '<component bom-ref="inner"><name>lodash</name><purl>pkg:npm/lodash@4.17.20</purl></component>' +
        '</components></component></metadata>' +
        '<x:vulnerabilities><x:vulnerability><x:id>IGNORED</x:id></x:vulnerability></x:vulnerabilities>' +
        '<vulnerabilities><vulnerability><id>CVE-2021-23337</id><ratings><rating><score>7.2</score><method>CVSSv31</method></rating></ratings>' +
        '<description><![CDATA[Command <injection>]]></description><x:note>n</x:note>' +
        '<affects><target><ref>inner</ref></target><target><ref>tool</ref></target></affects></vulnerability></vulnerabilities>',
    );
    const { findings, assets } = await parse(cycloneDxXmlParser, bytes);
    assert.deepEqual(assets, ['cyclonedx|shop & co']);
    assert.deepEqual(
      findings.map((f) => [f.pluginId, f.fingerprint, f.location, f.severity, f.description]),
      [
        [
          'CVE-2021-23337',
          'pkg:npm/lodash',
          'pkg:npm/lodash@4.17.20',
          'high',
          'Command <injection>',
        ],
        ['CVE-2021-23337', 'tool', 'tool', 'high', 'Command <injection>'],
      ],
      'tool components are not components of the BOM',
    );
  });

  it('refuses a DOCTYPE, malformed XML (with line and column) and a foreign root', async () => {
    const doctype = Buffer.from(
      `<?xml version="1.0"?><!DOCTYPE bom [<!ENTITY x "SECRET">]><bom xmlns="${NS}">&x;</bom>`,
    );
    const d = await refusal(cycloneDxXmlParser, doctype, { target: 't' });
    assert.equal(d.code, 'xml_doctype_forbidden');
    assert.doesNotMatch(d.message, /SECRET/);
    const broken = Buffer.from(
      fixture('cyclonedx-xml/log4j.xml').toString('utf8').replace('</id>', '</ident SECRET>'),
    );
    const m = await refusal(cycloneDxXmlParser, broken);
    assert.equal(m.code, 'xml_malformed');
    assert.match(m.message, /at line \d+, column \d+; nothing was stored$/);
    assert.doesNotMatch(m.message, /SECRET/);
    const nessus = Buffer.from('<NessusClientData_v2><Report/></NessusClientData_v2>');
    assert.equal((await refusal(cycloneDxXmlParser, nessus)).code, 'xml_wrong_root');
    const truncated = fixture('cyclonedx-xml/log4j.xml').subarray(0, 4000);
    assert.equal((await refusal(cycloneDxXmlParser, truncated)).code, 'xml_malformed');
    const state = xmlBom(
      '<vulnerabilities><vulnerability><id>CVE-1</id><analysis><state>SECRET</state></analysis>' +
        '<affects><target><ref>pkg:npm/a@1</ref></target></affects></vulnerability></vulnerabilities>',
    );
    const s = await refusal(cycloneDxXmlParser, state, { target: 't' });
    assert.equal(s.code, 'cyclonedx_invalid');
    assert.match(s.message, /vulnerability 1 \(line 2\): analysis\.state/);
    assert.doesNotMatch(s.message, /SECRET/);
  });

  it('gives the same findings whatever the chunk boundaries', async () => {
    for (const [name, runs] of [
      ['cyclonedx-xml/log4j.xml', 40],
      ['cyclonedx-xml/valid-vulnerability-1.4.xml', 40],
    ] as const) {
      const bytes = fixture(name);
      const whole = await parse(cycloneDxXmlParser, bytes, { target: 't' });
      await fc.assert(
        fc.asyncProperty(cutsFor(bytes.length), async (cuts) => {
          assert.deepEqual(await parse(cycloneDxXmlParser, bytes, { target: 't' }, cuts), whole);
        }),
        { numRuns: runs },
      );
    }
  });
});

describe('purl helpers', () => {
  it('drop the version and qualifiers, keep the subpath, read the name', () => {
    assert.equal(
      purlWithoutVersion('pkg:deb/ubuntu/bash@5.1-6ubuntu1?arch=amd64&distro=ubuntu-22.04'),
      'pkg:deb/ubuntu/bash',
    );
    assert.equal(purlWithoutVersion('pkg:npm/%40angular/core@16.0.0'), 'pkg:npm/%40angular/core');
    assert.equal(purlWithoutVersion('pkg:npm/@angular/core'), 'pkg:npm/@angular/core');
    assert.equal(purlWithoutVersion('pkg:npm/@angular/core@16.0.0'), 'pkg:npm/@angular/core');
    assert.equal(
      purlWithoutVersion('pkg:golang/example.com/mod/genproto@v0.0.0-1#api/annotations'),
      'pkg:golang/example.com/mod/genproto#api/annotations',
    );
    assert.equal(
      purlWithoutVersion('pkg:oci/ubuntu@sha256%3Aabc?repository_url=x#y', true),
      'pkg:oci/ubuntu',
    );
    assert.equal(purlName('pkg:npm/%40angular/core@16.0.0'), 'core');
    assert.equal(purlName('pkg:deb/ubuntu/libstdc%2B%2B6@12?arch=amd64'), 'libstdc++6');
    assert.equal(withoutVersionSuffix('os:debian@1.2.3'), 'os:debian');
    assert.equal(withoutVersionSuffix('log4j-core-2.13.2'), 'log4j-core');
    assert.equal(
      withoutVersionSuffix('6290db55-8336-4d2b-9cec-2efdda9f1b28'),
      '6290db55-8336-4d2b-9cec-2efdda9f1b28',
    );
  });

  it('keep identity fields within their limit and distinct', () => {
    const long = `pkg:generic/${'a'.repeat(300)}`;
    const a = identityKey(long, 128);
    const b = identityKey(`${long}b`, 128);
    assert.equal(a.length, 128);
    assert.notEqual(a, b);
    assert.equal(identityKey('short', 128), 'short');
  });
});
