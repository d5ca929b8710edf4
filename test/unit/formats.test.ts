// The push parsers give the same findings however the bytes are split into
// chunks (a chunk boundary may fall inside a tag, an entity, a UTF-8
// character, a quoted CSV cell or a JSON string), and map severities as the
// README documents.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  severityFromNessus,
  severityFromScore,
  severityFromWord,
  type ScannedFinding,
} from '../../src/core/finding.js';
import type { ParserFactory } from '../../src/formats/format.js';
import { cycloneDxParser } from '../../src/formats/cyclonedx.js';
import { nativeJsonParser } from '../../src/formats/native-json.js';
import { nessusCsvParser } from '../../src/formats/nessus-csv.js';
import { nessusXmlParser } from '../../src/formats/nessus-xml.js';
import { sarifParser } from '../../src/formats/sarif.js';

async function parse(factory: ParserFactory, bytes: Buffer, cuts: number[] = []) {
  const findings: ScannedFinding[] = [];
  const assets: string[] = [];
  const p = factory(
    { finding: (f) => void findings.push(f), asset: (_s, a) => assets.push(a) },
    { target: 'test-target' },
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

const XML = Buffer.from(
  `<?xml version="1.0"?>\n<NessusClientData_v2><Report name="r"><ReportHost name="hôst-1">` +
    `<ReportItem port="443" svc_name="www" protocol="tcp" severity="3" pluginID="42" pluginName="Say &quot;hi&quot; &amp; bye">` +
    `<description>ünïcødé &#x263A; &lt;b&gt;</description><cve>CVE-2020-0001</cve><cve>CVE-2020-0002</cve>` +
    `<cvss3_base_score>7.5</cvss3_base_score><cvss3_vector>CVSS:3.0/AV:N</cvss3_vector>` +
    `<plugin_output><![CDATA[raw <output>]]></plugin_output></ReportItem>` +
    `<ReportItem port="0" protocol="udp" severity="0" pluginID="7" pluginName="info"/></ReportHost>` +
    `<ReportHost name="empty-host"><HostProperties/></ReportHost></Report></NessusClientData_v2>`,
);

const CSV = Buffer.from(
  'Plugin ID;CVE;Risk;Host;Protocol;Port;Name;Description\n' +
    '42;CVE-2020-0001;High;10.0.0.1;tcp;443;"Say ""hi""; ünï";"multi\nline"\n' +
    ';;;;;;;\n\n' +
    '42;CVE-2020-0002;High;10.0.0.1;tcp;443;"Say ""hi""; ünï";"multi\nline"\n',
);

const cutsFor = (len: number) => fc.array(fc.integer({ min: 1, max: len - 1 }), { maxLength: 12 });

describe('scan format parsers', () => {
  it('read Nessus XML: entities, character references, CDATA, CVEs, CVSS v3, covered hosts', async () => {
    const { findings, assets } = await parse(nessusXmlParser, XML);
    assert.deepEqual(assets, ['hôst-1', 'empty-host']);
    const [a, b] = findings;
    assert.equal(a?.title, 'Say "hi" & bye');
    assert.equal(a?.description, 'ünïcødé ☺ <b>');
    assert.equal(a?.evidence, 'raw <output>');
    assert.deepEqual(a?.cves, ['CVE-2020-0001', 'CVE-2020-0002']);
    assert.deepEqual(
      [a?.severity, a?.severityRaw, a?.cvss3Score, a?.port],
      ['high', '3', 7.5, 443],
    );
    assert.deepEqual([b?.severity, b?.protocol, b?.port], ['info', 'udp', 0]);
  });

  it('give the same Nessus XML findings whatever the chunk boundaries', async () => {
    const whole = await parse(nessusXmlParser, XML);
    await fc.assert(
      fc.asyncProperty(cutsFor(XML.length), async (cuts) => {
        assert.deepEqual(await parse(nessusXmlParser, XML, cuts), whole);
      }),
      { numRuns: 60 },
    );
  });

  it('read a ;-delimited CSV with quoted cells, skipping blank and empty rows', async () => {
    const { findings } = await parse(nessusCsvParser, CSV);
    assert.equal(findings.length, 2, 'one per row; the store merges the CVE rows');
    assert.equal(findings[0]?.title, 'Say "hi"; ünï');
    assert.equal(findings[0]?.description, 'multi\nline');
    const whole = await parse(nessusCsvParser, CSV);
    await fc.assert(
      fc.asyncProperty(cutsFor(CSV.length), async (cuts) => {
        assert.deepEqual(await parse(nessusCsvParser, CSV, cuts), whole);
      }),
      { numRuns: 60 },
    );
  });

  it('give the same SARIF and CycloneDX findings whatever the chunk boundaries', async () => {
    const sarif = Buffer.from(
      JSON.stringify({
        version: '2.1.0',
        runs: [
          {
            tool: { driver: { name: 'tool-ü' } },
            results: [{ ruleId: 'r1', level: 'warning', message: { text: 'ünï "q"' } }],
          },
        ],
      }),
    );
    const cdx = Buffer.from(
      JSON.stringify({
        bomFormat: 'CycloneDX',
        specVersion: '1.6',
        vulnerabilities: [
          {
            id: 'GHSA-xxxx',
            ratings: [{ score: 9.8, method: 'CVSSv31' }],
            affects: [{ ref: 'pkg:npm/a@1' }],
          },
        ],
      }),
    );
    for (const [factory, bytes] of [
      [sarifParser, sarif],
      [cycloneDxParser, cdx],
    ] as const) {
      const whole = await parse(factory, bytes);
      assert.equal(whole.findings.length, 1);
      await fc.assert(
        fc.asyncProperty(cutsFor(bytes.length), async (cuts) => {
          assert.deepEqual(await parse(factory, bytes, cuts), whole);
        }),
        { numRuns: 40 },
      );
    }
    const c = (await parse(cycloneDxParser, cdx)).findings[0];
    assert.deepEqual(
      [c?.severity, c?.asset, c?.pluginId, c?.fingerprint, c?.location],
      ['critical', 'test-target', 'GHSA-xxxx', 'pkg:npm/a', 'pkg:npm/a@1'],
    );
  });

  it('map severities as documented', () => {
    assert.deepEqual(['0', '1', '2', '3', '4', '5'].map(severityFromNessus), [
      'info',
      'low',
      'medium',
      'high',
      'critical',
      undefined,
    ]);
    assert.deepEqual(
      ['None', 'Info', 'Low', 'Medium', 'moderate', 'High', 'Critical', 'unknown'].map(
        severityFromWord,
      ),
      ['info', 'info', 'low', 'medium', 'medium', 'high', 'critical', undefined],
    );
    assert.deepEqual([0, 0.1, 3.9, 4, 6.9, 7, 8.9, 9, 10].map(severityFromScore), [
      'info',
      'low',
      'low',
      'medium',
      'medium',
      'high',
      'high',
      'critical',
      'critical',
    ]);
  });
});

describe('native JSON batch (?format=native) refusing another format', () => {
  const refusal = async (doc: string) => {
    const p = nativeJsonParser(
      { finding: () => undefined, asset: () => undefined },
      () => undefined,
    );
    try {
      await p.write(Buffer.from(doc));
      await p.end();
    } catch (err) {
      return err as { code: string; message: string };
    }
    assert.fail('the document was accepted');
  };

  it('says a SARIF log is SARIF and which media type and --format to use', async () => {
    for (const doc of [
      '{"$schema":"https://json.schemastore.org/sarif-2.1.0.json","version":"2.1.0","runs":[]}',
      '{"version":"2.1.0","runs":[]}',
      '{"runs":[{"tool":{"driver":{"name":"x"}},"results":[]}]}',
    ]) {
      const err = await refusal(doc);
      assert.equal(err.code, 'validation_failed');
      assert.match(
        err.message,
        /^the findings batch has an unknown top-level property "(\$schema|version|runs)": this looks like SARIF; send it as application\/sarif\+json or with \?format=sarif \(vulnvault upload --format sarif\); nothing was stored$/,
      );
      assert.doesNotMatch(err.message, /schemastore|2\.1\.0/, 'no value is echoed');
    }
  });

  it('says a CycloneDX BOM is CycloneDX', async () => {
    for (const doc of [
      '{"bomFormat":"CycloneDX","specVersion":"1.5","vulnerabilities":[]}',
      '{"$schema":"http://cyclonedx.org/schema/bom-1.5.schema.json","bomFormat":"CycloneDX"}',
    ]) {
      const err = await refusal(doc);
      assert.match(
        err.message,
        /: this looks like CycloneDX; send it as application\/vnd\.cyclonedx\+json or with \?format=cyclonedx \(vulnvault upload --format cyclonedx\)/,
      );
    }
  });

  it('says how to send other formats for anything else', async () => {
    const err = await refusal('{"items":[{"host":"a"}]}');
    assert.equal(err.code, 'validation_failed');
    assert.match(
      err.message,
      /unknown top-level property "items"; a vulnvault batch has only "findings"/,
    );
    assert.match(err.message, /without \?format=native \(the server detects them\)/);
  });

  it('names an unknown key only clipped and sanitized', async () => {
    const key = `<script>alert(1)</script>${'k'.repeat(200)}`;
    const err = await refusal(JSON.stringify({ [key]: 'secret value' }));
    assert.match(err.message, /property "\?script\?alert\?1\?\?\?script\?k{15}…"/);
    assert.doesNotMatch(err.message, /<|>|secret|k{16}/);
  });
});
