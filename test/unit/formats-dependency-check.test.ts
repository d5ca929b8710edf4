// OWASP Dependency-Check JSON reports as the tool wrote them (10.0.4 on the
// SchemaSpy Maven plugin, 8.4.3 with a suppression file on IZ Gateway Hub,
// 8.2.1 with no vulnerability at all): the project is the target, one
// finding per (dependency, vulnerability), keyed by the package purl without
// version; suppressed vulnerabilities carry analysis not_affected.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ScannedFinding, Severity } from '../../src/core/finding.js';
import { dependencyCheckParser, withoutVersions } from '../../src/formats/dependency-check.js';
import type { ParseOptions } from '../../src/formats/format.js';

const dir = new URL('../fixtures/dependency-check/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, dir));

async function parse(bytes: Buffer, options: ParseOptions = {}, cuts: number[] = []) {
  const findings: ScannedFinding[] = [];
  const assets: string[] = [];
  const p = dependencyCheckParser(
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

async function refusal(bytes: Buffer, options: ParseOptions = {}) {
  try {
    await parse(bytes, options);
  } catch (err) {
    return err as { code: string; message: string };
  }
  assert.fail('the report was accepted');
}

const identity = (f: ScannedFinding) =>
  [f.asset, f.scanner, f.category, f.pluginId, f.port, f.protocol, f.fingerprint].join('|');

function bySeverity(findings: ScannedFinding[]): Partial<Record<Severity, number>> {
  const last = new Map<string, Severity>();
  for (const f of findings) last.set(identity(f), f.severity);
  const out: Partial<Record<Severity, number>> = {};
  for (const s of last.values()) out[s] = (out[s] ?? 0) + 1;
  return out;
}

const cutsFor = (len: number) => fc.array(fc.integer({ min: 1, max: len - 1 }), { maxLength: 12 });

const report = (dependencies: unknown[], projectName = 'proj') =>
  Buffer.from(
    JSON.stringify({
      reportSchema: '1.1',
      scanInfo: { engineVersion: '12.1.0' },
      projectInfo: { name: projectName },
      dependencies,
    }),
  );

describe('Dependency-Check JSON', () => {
  it('reads the SchemaSpy report: 98 findings, 82 identities, on the project', async () => {
    const { findings, assets } = await parse(fixture('schemaspy-10.0.4.json'));
    assert.deepEqual(assets, ['dependency-check|SchemaSpy Maven Plugin']);
    assert.equal(findings.length, 98);
    assert.equal(new Set(findings.map(identity)).size, 82);
    assert.deepEqual(bySeverity(findings), { critical: 8, high: 20, medium: 50, low: 4 });
    const derby = findings.find((f) => f.pluginId === 'CVE-2022-46337');
    assert.deepEqual(derby, {
      ...derby,
      asset: 'SchemaSpy Maven Plugin',
      scanner: 'dependency-check',
      title: 'CVE-2022-46337 in derby',
      fingerprint: 'pkg:maven/org.apache.derby/derby',
      location: '/mnt/data/mark/repository/org/apache/derby/derby/10.15.2.0/derby-10.15.2.0.jar',
      severity: 'critical',
      severityRaw: 'CRITICAL',
      cvss3Score: 9.8,
      cvss3Vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
      cves: ['CVE-2022-46337'],
      evidence: 'matched cpe:2.3:a:apache:derby:*:*:*:*:*:*:*:*',
      analysis: null,
    });
    assert.match(derby?.description ?? '', /^A cleverly devised username might bypass LDAP/);
  });

  it('uses RetireJS advisory names as rules, and merges one package found in two files', async () => {
    const { findings } = await parse(fixture('schemaspy-10.0.4.json'));
    const eol = findings.filter((f) => f.pluginId.startsWith('Bootstrap before 4.0.0'));
    assert.equal(eol.length, 2, 'bootstrap.js and bootstrap.min.js');
    assert.equal(new Set(eol.map(identity)).size, 1, 'one package, one finding');
    assert.deepEqual(
      [eol[0]?.title, eol[0]?.fingerprint, eol[0]?.severity, eol[0]?.severityRaw, eol[0]?.cves],
      [
        'Bootstrap before 4.0.0 is end-of-life and no longer maintained. in bootstrap',
        'pkg:javascript/bootstrap',
        'low',
        'low',
        [],
      ],
    );
  });

  it('maps suppressed vulnerabilities to not_affected with the suppression notes', async () => {
    const { findings, assets } = await parse(fixture('izgw-hub-suppressed.json'));
    assert.deepEqual(assets, ['dependency-check|IZ Gateway Hub 2.0']);
    assert.equal(findings.length, 6);
    assert.equal(new Set(findings.map(identity)).size, 6);
    assert.deepEqual(bySeverity(findings), { high: 1, medium: 5 });
    assert.ok(
      findings.every(
        (f) => f.analysis?.state === 'not_affected' && f.analysis.justification === null,
      ),
    );
    const rsa = findings.find((f) => f.pluginId === 'CVE-2024-29857');
    assert.deepEqual(
      [rsa?.title, rsa?.fingerprint, rsa?.analysis?.detail, rsa?.cvss3Vector, rsa?.evidence],
      [
        'CVE-2024-29857 in bc-fips',
        'pkg:maven/org.bouncycastle/bc-fips',
        'IZ Gateway only uses RSA certificates',
        'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H',
        'matched cpe:2.3:a:org.bouncycastle:bc-fips:1.0.2.4:*:*:*:*:*:*:*',
      ],
      'OSS Index writes the CVSS metrics as letters',
    );
    const v2 = findings.find((f) => f.pluginId === 'CVE-2020-26939');
    assert.deepEqual([v2?.cvss2Score, v2?.cvss2Vector], [5, 'AV:N/AC:L/Au:N/C:P/I:N/A:N']);
  });

  it('keeps the identity when a dependency is bumped', async () => {
    const text = fixture('izgw-hub-suppressed.json').toString('utf8');
    const bumped = Buffer.from(text.replaceAll('1.0.2.4', '1.0.2.5'));
    const a = await parse(fixture('izgw-hub-suppressed.json'));
    const b = await parse(bumped);
    assert.deepEqual(b.findings.map(identity), a.findings.map(identity));
    assert.match(b.findings[0]?.location ?? '', /bc-fips-1\.0\.2\.5\.jar$/);
  });

  it('accepts a clean report: the target is declared, from ?target= when the project has no name', async () => {
    const bytes = fixture('npm-audit-error-clean.json');
    assert.equal((await refusal(bytes)).code, 'scan_target_missing');
    assert.deepEqual(await parse(bytes, { target: 'frontend' }), {
      findings: [],
      assets: ['dependency-check|frontend'],
    });
    assert.deepEqual(await parse(report([]), { target: 'ignored' }), {
      findings: [],
      assets: ['dependency-check|proj'],
    });
  });

  it('keys a dependency without a purl by its path without versions, else its file name', async () => {
    const vuln = { source: 'NVD', name: 'CVE-2020-1', cvssv2: { score: 5, severity: 'MEDIUM' } };
    const { findings } = await parse(
      report([
        {
          fileName: 'app.jar: lib-1.2.3.jar',
          filePath: '/build/app.jar/lib/1.2.3/lib-1.2.3.jar',
          vulnerabilities: [vuln],
        },
        {
          fileName: 'bare.dll',
          vulnerabilities: [{ ...vuln, severity: '7.5', cvssv2: undefined }],
        },
      ]),
    );
    assert.deepEqual(
      findings.map((f) => [f.fingerprint, f.location, f.title, f.severity, f.severityRaw]),
      [
        [
          '/build/app.jar/lib/lib.jar',
          '/build/app.jar/lib/1.2.3/lib-1.2.3.jar',
          'CVE-2020-1 in app.jar: lib-1.2.3.jar',
          'medium',
          'MEDIUM',
        ],
        ['bare.dll', '', 'CVE-2020-1 in bare.dll', 'high', '7.5'],
      ],
    );
    assert.equal(
      withoutVersions('/m2/org/ow2/asm/asm/7.3.1/asm-7.3.1.jar'),
      '/m2/org/ow2/asm/asm/asm.jar',
    );
    assert.equal(
      withoutVersions(
        'C:\\m2\\com\\x\\commons-text\\1.10.0-SNAPSHOT\\commons-text-1.10.0-SNAPSHOT.jar',
      ),
      'C:\\m2\\com\\x\\commons-text\\commons-text.jar',
    );
    assert.equal(
      withoutVersions('/src/go.mod:github.com/alecthomas/units/0.0.0-20190924025748-f65c72e2690d'),
      '/src/go.mod:github.com/alecthomas/units',
    );
  });

  it('gives the same findings when a dependency lists vulnerabilities before its packages', async () => {
    const dep = {
      fileName: 'log4j-api-2.13.0.jar',
      filePath: '/m2/log4j-api-2.13.0.jar',
      packages: [{ id: 'pkg:maven/org.apache.logging.log4j/log4j-api@2.13.0' }],
      vulnerabilities: [
        { source: 'NVD', name: 'CVE-2020-9488', cvssv3: { baseScore: 3.7, baseSeverity: 'LOW' } },
      ],
    };
    const { vulnerabilities, ...rest } = dep;
    const a = await parse(report([dep]));
    const b = await parse(report([{ vulnerabilities, ...rest }]));
    assert.deepEqual(b, a);
    assert.equal(a.findings[0]?.fingerprint, 'pkg:maven/org.apache.logging.log4j/log4j-api');
  });

  it('refuses what is not a Dependency-Check report, or broken JSON, with a position and no echo', async () => {
    const noSchema = Buffer.from('{"projectInfo":{"name":"p"},"dependencies":[]}');
    const e1 = await refusal(noSchema);
    assert.equal(e1.code, 'dependency_check_invalid');
    assert.match(e1.message, /reportSchema is missing/);
    const nameless = report([
      { fileName: 'a.jar', vulnerabilities: [{ source: 'NVD' }, { name: '' }] },
    ]);
    assert.match(
      (await refusal(nameless)).message,
      /^Dependency-Check: dependency 1, vulnerability 1 has no name/,
    );
    const text = fixture('izgw-hub-suppressed.json').toString('utf8');
    const broken = Buffer.from(
      text.replace('"IZ Gateway only uses RSA certificates"', '"SECRET" x'),
    );
    const e2 = await refusal(broken);
    assert.equal(e2.code, 'invalid_json');
    assert.match(e2.message, /at byte \d+/);
    assert.doesNotMatch(e2.message, /SECRET/);
    const truncated = await refusal(fixture('schemaspy-10.0.4.json').subarray(0, 100_000));
    assert.equal(truncated.code, 'invalid_json');
    const late = Buffer.from(
      '{"reportSchema":"1.1","dependencies":[{"fileName":"a.jar","filePath":"/a.jar","packages":[],' +
        '"vulnerabilities":[{"name":"CVE-1"}]}],"projectInfo":{"name":"late"}}',
    );
    assert.match(
      (await refusal(late, { target: 't' })).message,
      /projectInfo comes after the dependencies/,
    );
  });

  it('gives the same findings whatever the chunk boundaries', async () => {
    for (const [name, runs] of [
      ['izgw-hub-suppressed.json', 10],
      ['npm-audit-error-clean.json', 30],
    ] as const) {
      const bytes = fixture(name);
      const whole = await parse(bytes, { target: 't' });
      await fc.assert(
        fc.asyncProperty(cutsFor(bytes.length), async (cuts) => {
          assert.deepEqual(await parse(bytes, { target: 't' }, cuts), whole);
        }),
        { numRuns: runs },
      );
    }
  });

  it('gives identical identities when the same file is parsed again, and keeps free text out of clear fields', async () => {
    const bytes = fixture('schemaspy-10.0.4.json');
    const a = await parse(bytes);
    const b = await parse(bytes);
    assert.deepEqual(b.findings.map(identity), a.findings.map(identity));
    for (const f of a.findings) {
      const probe = f.description.trim().slice(0, 40);
      if (probe.length < 12) continue;
      // A RetireJS advisory's name may repeat its description: the name is
      // the rule, so only what the title adds to it is checked.
      const added = f.title.replace(f.pluginId, '');
      for (const clear of [added, f.location, f.asset, f.fingerprint])
        assert.ok(!clear.includes(probe));
    }
  });
});
