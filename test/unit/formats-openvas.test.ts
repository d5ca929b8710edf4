// The OpenVAS / Greenbone (GVM) XML parser on reports GVM wrote (DefectDojo's
// unittests/scans/openvas, see test/fixtures/openvas/SOURCES) and on small
// reports built from the GMP schema for what those files lack: overrides to
// False Positive, Log results, clean hosts, local (package) checks.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ScannedFinding } from '../../src/core/finding.js';
import type { ParseOptions } from '../../src/formats/format.js';
import { openVasParser } from '../../src/formats/openvas.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/openvas/${name}`, import.meta.url));

async function parse(bytes: Buffer, cuts: number[] = [], options: ParseOptions = {}) {
  const findings: ScannedFinding[] = [];
  const assets: string[] = [];
  const p = openVasParser(
    {
      finding: (f) => void findings.push(f),
      asset: (scanner, asset, category = '') => assets.push(`${scanner}|${asset}|${category}`),
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

async function refusal(bytes: Buffer, options: ParseOptions = {}) {
  try {
    await parse(bytes, [], options);
  } catch (err) {
    return err as { code: string; message: string };
  }
  assert.fail('the document was accepted');
}

interface Expected {
  file: string;
  target: string | null;
  received: number;
  distinct: number;
  targets: string[];
  bySeverity: Record<string, number>;
  markers: string[];
}

const identity = (f: ScannedFinding) =>
  JSON.stringify([f.asset, f.scanner, f.category, f.pluginId, f.port, f.protocol, f.fingerprint]);

function bySeverity(findings: ScannedFinding[]) {
  const last = new Map(findings.map((f) => [identity(f), f.severity]));
  const counts: Record<string, number> = {};
  for (const s of last.values()) counts[s] = (counts[s] ?? 0) + 1;
  return counts;
}

const cutsFor = (len: number) => fc.array(fc.integer({ min: 1, max: len - 1 }), { maxLength: 12 });

/** A GMP get_reports_response as GVM writes it, trimmed to what the parser reads. */
const GMP = Buffer.from(
  `<?xml version="1.0"?>
<get_reports_response status="200" status_text="OK">
<report id="r1" format_id="a994b278-1f62-11e1-96ac-406186ea4fc5" extension="xml" content_type="text/xml">
<report id="r1">
<ports><port>80/tcp<host>192.0.2.1</host><severity>5.0</severity><threat>Medium</threat></port></ports>
<results start="1" max="-1">
<result id="a"><name>Weak &amp; "old" cipher</name>
  <host>192.0.2.1<asset asset_id="x"/><hostname>wéb.example</hostname></host>
  <port>443/tcp</port>
  <nvt oid="1.3.6.1.4.1.25623.1.0.1"><type>nvt</type><name>Weak &amp; "old" cipher</name>
    <cvss_base>5.0</cvss_base>
    <tags>cvss_base_vector=AV:N/AC:L/Au:N/C:P/I:N/A:N|summary=Sûmmary with a | pipe|insight=why|solution=upgrade|solution_type=VendorFix</tags>
    <refs><ref type="cve" id="CVE-2020-0001"/><ref type="url" id="https://example.com/CVE-2020-9999"/></refs>
  </nvt>
  <threat>Medium</threat><severity>5.0</severity><qod><value>70</value><type>remote_banner</type></qod>
  <description><![CDATA[raw <output> secret-ish]]></description>
  <delta>changed<result id="old"><host>203.0.113.9</host><nvt oid="9"/></result></delta>
</result>
<result id="b"><name>Overridden</name><host>192.0.2.1</host><port>general/tcp</port>
  <nvt oid="1.3.6.1.4.1.25623.1.0.2"><name>Overridden check</name><cvss_base>7.5</cvss_base></nvt>
  <threat>False Positive</threat><severity>-1.0</severity>
  <original_threat>High</original_threat><original_severity>7.5</original_severity>
  <description>out</description>
  <overrides><override id="o1"><nvt oid="1.3.6.1.4.1.25623.1.0.2"/><active>1</active>
    <text>not our build</text><threat>High</threat><severity>7.5</severity>
    <new_threat>False Positive</new_threat><new_severity>-1</new_severity></override></overrides>
</result>
<result id="c"><name>OS Detection</name><host>192.0.2.1</host><port>general/CPE-T</port>
  <nvt oid="1.3.6.1.4.1.25623.1.0.3"><name>OS Detection</name><cvss_base>0.0</cvss_base></nvt>
  <threat>Log</threat><severity>0.0</severity><description>Debian</description></result>
<result id="d"><name>libfoo</name><host>192.0.2.1</host><port>package</port><path>/usr/lib/libfoo.so</path>
  <nvt oid="1.3.6.1.4.1.25623.1.0.4"><name>libfoo vulnerable</name>
    <severities score="9.8"><severity type="cvss_base_v3"><score>9.8</score><value>CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H</value></severity></severities>
    <solution type="VendorFix">Update libfoo</solution></nvt>
  <threat>Critical</threat><severity>9.8</severity></result>
<result id="e"><name>libfoo</name><host>192.0.2.1</host><port>package</port><path>/opt/app/libfoo.so</path>
  <nvt oid="1.3.6.1.4.1.25623.1.0.4"><name>libfoo vulnerable</name></nvt>
  <threat>Critical</threat><severity>9.8</severity></result>
<result id="f"><host>192.0.2.1</host><port>www (80/tcp)</port>
  <nvt oid="1.3.6.1.4.1.25623.1.0.5"><name>Old style port</name></nvt><threat>Low</threat></result>
</results>
<host><ip>192.0.2.1</ip><start>2024-01-01T00:00:00Z</start></host>
<host><ip>192.0.2.2</ip><start>2024-01-01T00:00:00Z</start><detail><name>hostname</name><value>clean</value></detail></host>
</report>
</report>
</get_reports_response>
`,
);

describe('OpenVAS XML parser', () => {
  it('reads many_vuln.xml: 44 results on one host, severities from the CVSS score', async () => {
    const { findings, assets } = await parse(fixture('many_vuln.xml'));
    assert.equal(findings.length, 44);
    assert.equal(new Set(findings.map(identity)).size, 44);
    assert.deepEqual(assets, ['OpenVAS|192.168.1.1001|']);
    assert.deepEqual(bySeverity(findings), { critical: 8, high: 11, medium: 25 });
    assert.equal(new Set(findings.flatMap((f) => f.cves)).size, 46);
    const rexec = findings[0];
    assert.deepEqual(
      [rexec?.pluginId, rexec?.port, rexec?.protocol, rexec?.title, rexec?.severity],
      ['1.3.6.1.4.1.25623.1.0.100111', 512, 'tcp', 'The rexec service is running', 'critical'],
    );
    assert.equal(rexec?.severityRaw, 'High (10.0)');
    assert.deepEqual(rexec?.cves, ['CVE-1999-0618']);
    assert.equal(rexec?.evidence, 'The rexec service was detected on the target system.');
    assert.match(rexec?.description ?? '', /^Summary: This remote host is running a rexec service/);
    assert.match(rexec?.description ?? '', /Quality of detection: 80%$/);
    assert.match(rexec?.solution ?? '', /^Disable the rexec service/);
    assert.equal(rexec?.location, 'b6b9f466d63 512/tcp');
    // Two results have no threat word, only a score.
    const scoreOnly = findings.filter((f) => f.severityRaw === '4.0');
    assert.deepEqual(
      scoreOnly.map((f) => f.severity),
      ['medium', 'medium'],
    );
    const general = findings.filter((f) => f.port === 0);
    assert.deepEqual(
      general.map((f) => f.protocol),
      ['tcp'],
    );
    // Pretty-printed names are one line.
    assert.ok(findings.every((f) => !/\n/.test(f.title)));
  });

  it('reads a GVM 22.6 report: CVSS v3 from severities, 93 CVEs, hostname in the location', async () => {
    const { findings, assets } = await parse(fixture('report_detail_v2.xml'));
    assert.deepEqual(assets, ['OpenVAS|10.99.99.99|']);
    assert.equal(findings.length, 1);
    const f = findings[0];
    assert.deepEqual(
      [f?.severity, f?.severityRaw, f?.cvss3Score, f?.cvss3Vector, f?.cvss2Score],
      ['critical', 'High (9.8)', 9.8, 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', null],
    );
    assert.equal(f?.cves.length, 93);
    assert.equal(f?.location, 'server99 42/tcp');
    assert.equal(f?.title, 'Microsoft Windows Multiple Vulnerabilities (KB5062557)');
    assert.match(f?.solution ?? '', /^The vendor has released updates/);
    assert.match(f?.evidence ?? '', /Ntoskrnl\.exe/);
  });

  it('reads a one-line report with a general/tcp result', async () => {
    const { findings, assets } = await parse(fixture('one_vuln.xml'));
    assert.deepEqual(assets, ['OpenVAS|10.0.101.2|']);
    assert.deepEqual(
      findings.map((f) => [f.port, f.protocol, f.location, f.severity, f.cves.length]),
      [[0, 'tcp', 'general/tcp', 'critical', 12]],
    );
  });

  it('takes the upload target for a report of no host, and asks for one without it', async () => {
    const bytes = fixture('no_vuln.xml');
    const { findings, assets } = await parse(bytes, [], { target: '192.0.2.50' });
    assert.deepEqual([findings.length, assets], [0, ['OpenVAS|192.0.2.50|']]);
    assert.equal((await refusal(bytes)).code, 'scan_target_missing');
  });

  it('covers every report host (clean ones too), keeps overridden False Positives as analysis', async () => {
    const { findings, assets } = await parse(GMP);
    assert.deepEqual(assets, ['OpenVAS|192.0.2.1|', 'OpenVAS|192.0.2.2|']);
    assert.equal(findings.length, 6, 'the result inside <delta> is not a finding');
    const [a, b, c, d, e, f] = findings;
    assert.deepEqual(
      [a?.title, a?.port, a?.protocol, a?.severity, a?.severityRaw, a?.location],
      ['Weak & "old" cipher', 443, 'tcp', 'medium', 'Medium (5.0)', 'wéb.example 443/tcp'],
    );
    assert.deepEqual(
      [a?.cvss2Vector, a?.cvss2Score, a?.cvss3Score],
      ['AV:N/AC:L/Au:N/C:P/I:N/A:N', 5, null],
    );
    assert.deepEqual(a?.cves, ['CVE-2020-0001'], 'only refs of type cve');
    assert.equal(
      a?.description,
      'Summary: Sûmmary with a | pipe\n\nInsight: why\n\nQuality of detection: 70%',
    );
    assert.equal(a?.solution, 'upgrade');
    assert.equal(a?.evidence, 'raw <output> secret-ish');

    assert.deepEqual(
      [b?.severity, b?.severityRaw, b?.analysis?.state, b?.analysis?.detail, b?.port, b?.protocol],
      ['high', 'High (7.5)', 'false_positive', 'not our build', 0, 'tcp'],
    );
    assert.deepEqual(
      [c?.severity, c?.severityRaw, c?.protocol, c?.analysis],
      ['info', 'Log (0.0)', 'cpe-t', null],
    );

    // Local checks: one finding per file.
    assert.deepEqual(
      [d?.protocol, d?.port, d?.severity, d?.cvss3Score, d?.solution, d?.location],
      ['package', 0, 'critical', 9.8, 'Update libfoo', 'package /usr/lib/libfoo.so'],
    );
    assert.notEqual(d?.fingerprint, '');
    assert.notEqual(identity(d as ScannedFinding), identity(e as ScannedFinding));
    assert.equal(e?.severityRaw, 'Critical (9.8)');

    assert.deepEqual(
      [f?.port, f?.protocol, f?.service, f?.severity, f?.severityRaw],
      [80, 'tcp', 'www', 'low', 'Low'],
    );
  });

  it('honours an active override to False Positive even when the export did not apply it', async () => {
    const xml = Buffer.from(
      `<report><report><results><result><host>192.0.2.7</host><port>22/tcp</port>` +
        `<nvt oid="1.2"><name>n</name></nvt><threat>High</threat><severity>7.5</severity>` +
        `<overrides><override><active>0</active><new_severity>-1</new_severity><text>old</text></override>` +
        `<override><active>1</active><new_severity>-1.0</new_severity><text>why</text></override></overrides>` +
        `</result></results></report></report>`,
    );
    const [f] = (await parse(xml)).findings;
    assert.deepEqual(
      [f?.severity, f?.analysis?.state, f?.analysis?.detail],
      ['high', 'false_positive', 'why'],
    );
  });

  it('gives the same findings whatever the chunk boundaries', async () => {
    for (const bytes of [GMP, fixture('one_vuln.xml')]) {
      const whole = await parse(bytes);
      await fc.assert(
        fc.asyncProperty(cutsFor(bytes.length), async (cuts) => {
          assert.deepEqual(await parse(bytes, cuts), whole);
        }),
        { numRuns: 40 },
      );
    }
  });

  it('gives the same identities when the same file is uploaded again', async () => {
    const bytes = fixture('many_vuln.xml');
    const first = (await parse(bytes)).findings.map(identity);
    const second = (await parse(bytes, [1000, 50_000])).findings.map(identity);
    assert.deepEqual(second, first);
  });

  it('refuses a truncated report with a position, echoing nothing', async () => {
    const bytes = fixture('many_vuln.xml');
    const err = await refusal(bytes.subarray(0, 60_000));
    assert.equal(err.code, 'xml_malformed');
    assert.match(err.message, /at line \d+, column \d+; nothing was stored$/);
    const broken = Buffer.from('<report><report><results><result><host>10.0.0.1</hostx></result>');
    const err2 = await refusal(broken);
    assert.equal(err2.code, 'xml_malformed');
    assert.match(err2.message, /^the XML is malformed at line 1, column \d+/);
    assert.doesNotMatch(err2.message, /10\.0\.0\.1|hostx/);
  });

  it('refuses a DOCTYPE, another root, and results missing a host, an oid or a known severity', async () => {
    const doctype = await refusal(
      Buffer.from('<?xml version="1.0"?><!DOCTYPE report [<!ENTITY x "y">]><report/>'),
    );
    assert.equal(doctype.code, 'xml_doctype_forbidden');
    assert.match(doctype.message, /line 1/);
    assert.equal((await refusal(Buffer.from('<NessusClientData_v2/>'))).code, 'xml_wrong_root');
    assert.equal(
      (await refusal(Buffer.from('<report><name>x</name></report>'))).code,
      'openvas_invalid',
    );
    const result = (inner: string) =>
      Buffer.from(`<report><report><results>${inner}</results></report></report>`);
    for (const [inner, what] of [
      [
        '<result><port>1/tcp</port><nvt oid="1"/><threat>High</threat></result>',
        /result 1 has no host/,
      ],
      [
        '<result><host>h-secret</host><nvt/><threat>High</threat></result>',
        /result 1 has no nvt oid/,
      ],
      [
        '<result><host>h-secret</host><nvt oid="1"/><threat>Bogus-secret</threat></result>',
        /result 1 has an unknown threat or severity/,
      ],
      [
        '<result><host>h-secret</host><port>99999/tcp</port><nvt oid="1"/><threat>Low</threat></result>',
        /result 1 has an invalid port/,
      ],
    ] as const) {
      const err = await refusal(result(inner));
      assert.equal(err.code, 'openvas_invalid');
      assert.match(err.message, what);
      assert.doesNotMatch(err.message, /secret/);
    }
  });

  it('matches expected.json and keeps its markers out of the fields stored in clear', async () => {
    const expected = JSON.parse(
      readFileSync(new URL('../fixtures/openvas/expected.json', import.meta.url), 'utf8'),
    ) as Expected[];
    for (const e of expected) {
      const { findings, assets } = await parse(fixture(e.file), [], {
        target: e.target ?? undefined,
      });
      assert.equal(findings.length, e.received, e.file);
      assert.equal(new Set(findings.map(identity)).size, e.distinct, e.file);
      assert.deepEqual(
        assets,
        e.targets.map((t) => `OpenVAS|${t}|`),
        e.file,
      );
      const counts = bySeverity(findings);
      for (const [severity, n] of Object.entries(e.bySeverity)) {
        assert.equal(counts[severity] ?? 0, n, `${e.file} ${severity}`);
      }
      for (const marker of e.markers) {
        const sealed = findings.some((f) =>
          [f.description, f.solution, f.evidence].some((s) => s.includes(marker)),
        );
        assert.ok(sealed, `${e.file}: "${marker}" is in a sealed field`);
        for (const f of findings) {
          for (const clear of [f.title, f.location, f.asset, f.pluginId, f.fingerprint]) {
            assert.ok(!clear.includes(marker), `${e.file}: "${marker}" is not stored in clear`);
          }
        }
      }
    }
  });
});
