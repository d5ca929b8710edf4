// The Trivy parser on reports Trivy wrote (DefectDojo's unit-test scans and
// Trivy's own integration goldens, see test/fixtures/trivy/SOURCES): exact
// counts, identities that survive a rebuild, secrets never stored, errors
// with a position and nothing echoed, and the same result however the bytes
// are split.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ParseOptions } from '../../src/formats/format.js';
import { trivyParser } from '../../src/formats/trivy.js';
import { bySeverity, cutsFor, identity, parse, refusal } from '../helpers/parse-scan.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/trivy/${name}`, import.meta.url));

const trivy = (name: string, options: ParseOptions = {}) =>
  parse(trivyParser, fixture(name), options);

describe('Trivy parser on real reports', () => {
  it('reads an image scan: OS and jar vulnerabilities of one target, CVSS from nvd', async () => {
    // (DefectDojo gave this file's packages a PkgPath, which the location shows)
    const { findings, assets } = await trivy('scheme_2_many_vulns.json');
    assert.deepEqual(assets, ['Trivy|teamdojo:latest|']);
    assert.equal(findings.length, 5);
    assert.equal(new Set(findings.map(identity)).size, 5);
    assert.deepEqual(bySeverity(findings), { critical: 1, high: 1, medium: 3 });
    const jar = findings.find((f) => f.pluginId === 'CVE-2018-11771');
    assert.deepEqual(
      [jar?.title, jar?.location, jar?.severity, jar?.severityRaw, jar?.cvss3Score, jar?.cves],
      [
        'CVE-2018-11771 in org.apache.commons:commons-compress',
        'app/libs/commons-compress-1.14: org.apache.commons:commons-compress@1.14',
        'medium',
        'MEDIUM',
        5.5,
        ['CVE-2018-11771'],
      ],
    );
    assert.match(jar?.solution ?? '', /^Upgrade org\.apache\.commons:commons-compress to 1\.18\.$/);
    assert.ok(findings.every((f) => f.scanner === 'Trivy' && f.category === '' && f.port === 0));
  });

  it('reads vulnerabilities, a failed check and secrets; a "." scan needs ?target=', async () => {
    const err = await refusal(trivyParser, fixture('misconfigurations_and_secrets.json'));
    assert.equal(err.code, 'scan_target_missing');
    const { findings, assets } = await trivy('misconfigurations_and_secrets.json', {
      target: 'app',
    });
    assert.deepEqual(assets, ['Trivy|app|']);
    assert.deepEqual(
      findings.map((f) => f.pluginId),
      ['CVE-2021-33503', 'CVE-2021-28363', 'DS-0002', 'github-pat', 'github-pat'],
    );
    assert.equal(new Set(findings.map(identity)).size, 5, 'two secrets of one rule stay apart');
    const [, , check, secret] = findings;
    assert.deepEqual(
      [check?.title, check?.location, check?.evidence, check?.severity],
      [
        "Image user should not be 'root'",
        'Dockerfile',
        'Specify at least 1 USER command in Dockerfile with non-root user as argument',
        'high',
      ],
    );
    assert.deepEqual(
      [secret?.title, secret?.location, secret?.evidence, secret?.severity],
      ['GitHub Personal Access Token', 'Dockerfile:24', 'line 24', 'critical'],
    );
    for (const f of findings) assert.doesNotMatch(JSON.stringify(f), /GITHUB_PAT/);
  });

  it('never stores a secret match nor the code around it', async () => {
    const { findings } = await trivy('secrets.json.golden');
    assert.deepEqual(
      findings.map((f) => [f.pluginId, f.title, f.location, f.severity]),
      [
        ['aws-access-key-id', 'AWS Access Key ID', 'deploy.sh:3', 'critical'],
        ['mysecret', 'My Secret', 'deploy.sh:7', 'high'],
      ],
    );
    // Trivy masks the match but shows the neighbouring lines in clear (here a token).
    for (const f of findings) {
      assert.doesNotMatch(JSON.stringify(f), /ghp_0123456789|AWS_ACCESS_KEY_ID|echo \*/);
    }
  });

  it('reads failed checks of a Helm chart with their line, under the current check ids', async () => {
    const { findings, assets } = await trivy('helm_testchart.json.golden');
    assert.deepEqual(assets, ['Trivy|testdata/fixtures/repo/helm_testchart|']);
    assert.equal(findings.length, 6);
    assert.equal(new Set(findings.map(identity)).size, 6);
    assert.deepEqual(bySeverity(findings), { high: 1, medium: 3, low: 2 });
    assert.ok(findings.every((f) => /^KSV-\d{4}$/.test(f.pluginId)));
    assert.deepEqual(
      findings.map((f) => f.location.replace('templates/deployment.yaml', '')),
      [':28', ':28', ':28', ':4', '', ':23'],
    );
  });

  it('imports what VEX set aside with its verdict', async () => {
    const { findings } = await trivy('npm-with-suppressed.json.golden');
    assert.deepEqual(
      findings.map((f) => [
        f.pluginId,
        f.analysis?.state ?? null,
        f.analysis?.justification ?? null,
      ]),
      [
        ['CVE-2017-20165', null, null],
        ['CVE-2017-16137', 'not_affected', 'code_not_reachable'],
      ],
    );
    assert.match(findings[1]?.analysis?.detail ?? '', /vulnerable_code_not_in_execute_path/);
  });

  it('keeps the vendor status: not_affected as a verdict, will_not_fix as the solution', async () => {
    const { findings, assets } = await trivy('all_statuses.json', { target: 'example-app' });
    assert.deepEqual(assets, ['Trivy|example-app|']);
    assert.equal(findings.length, 8);
    assert.equal(new Set(findings.map(identity)).size, 8);
    const bash = findings.find((f) => f.pluginId === 'CVE-2019-18276');
    assert.equal(bash?.analysis?.state, 'not_affected');
    const wontFix = findings.find((f) => f.pluginId === 'CVE-2018-12698');
    assert.match(wontFix?.solution ?? '', /will not fix/);
    assert.equal(findings.filter((f) => f.analysis !== null).length, 1);
  });

  it('reads the pre-0.20 list form with ?target=, UNKNOWN as info', async () => {
    assert.equal(
      (await refusal(trivyParser, fixture('legacy_many_vulns.json'))).code,
      'scan_target_missing',
    );
    const { findings, assets } = await trivy('legacy_many_vulns.json', { target: 'python-app' });
    assert.deepEqual(assets, ['Trivy|python-app|']);
    assert.equal(findings.length, 93);
    assert.equal(new Set(findings.map(identity)).size, 93);
    assert.deepEqual(bySeverity(findings), { low: 65, high: 18, medium: 9, info: 1 });
    assert.equal(findings.find((f) => f.severityRaw === 'UNKNOWN')?.severity, 'info');
  });

  it('takes a report without findings as a clean scan of its target', async () => {
    assert.deepEqual(await trivy('scheme_2_no_vuln.json'), {
      findings: [],
      assets: ['Trivy|trivy-unittest:latest|'],
    });
    assert.deepEqual(await trivy('legacy_no_vuln.json', { target: 'img' }), {
      findings: [],
      assets: ['Trivy|img|'],
    });
  });

  it('lets ?target= name the target over ArtifactName', async () => {
    const { assets, findings } = await trivy('scheme_2_many_vulns.json', { target: 'teamdojo' });
    assert.deepEqual(assets, ['Trivy|teamdojo|']);
    assert.ok(findings.every((f) => f.asset === 'teamdojo'));
  });
});

describe('Trivy finding identity', () => {
  it('is the same on a re-parse', async () => {
    const a = await trivy('legacy_many_vulns.json', { target: 't' });
    const b = await trivy('legacy_many_vulns.json', { target: 't' });
    assert.deepEqual(a.findings.map(identity), b.findings.map(identity));
  });

  it('survives a rebuild on a newer OS release and a library upgrade', async () => {
    const before = fixture('scheme_2_many_vulns.json').toString();
    const after = before
      .replaceAll('(alpine 3.9.4)', '(alpine 3.9.6)')
      .replaceAll('commons-compress-1.14', 'commons-compress-1.15')
      .replaceAll('"InstalledVersion": "1.14"', '"InstalledVersion": "1.15"')
      .replaceAll('2.9.1-r2', '2.9.1-r9'); // freetype's InstalledVersion and PkgPath
    assert.notEqual(after, before);
    const a = await parse(trivyParser, Buffer.from(before));
    const b = await parse(trivyParser, Buffer.from(after));
    assert.deepEqual(b.findings.map(identity), a.findings.map(identity));
    assert.notDeepEqual(
      b.findings.map((f) => f.location),
      a.findings.map((f) => f.location),
    );
  });
});

describe('Trivy parser refusing a report', () => {
  it('says which entry lacks an id (a real DefectDojo file with a stripped entry)', async () => {
    const err = await refusal(trivyParser, fixture('legacy_trivy_mix.json'), { target: 'x' });
    assert.equal(err.code, 'trivy_invalid');
    assert.equal(
      err.message,
      'Trivy: Results[0].Vulnerabilities[0] has no VulnerabilityID; nothing was stored',
    );
  });

  it('gives the byte offset of a syntax error, in both forms, without echoing input', async () => {
    for (const [name, lead] of [
      ['scheme_2_many_vulns.json', ''],
      ['legacy_many_vulns.json', ' \n\t'],
    ] as const) {
      const text = lead + fixture(name).toString();
      const at = text.indexOf('"PkgName"') + 9; // the colon after the key
      const bad = `${text.slice(0, at)}#${text.slice(at + 1)}`;
      const err = await refusal(trivyParser, bad, { target: 'x' });
      assert.equal(err.code, 'invalid_json');
      assert.match(err.message, new RegExp(`at byte ${Buffer.byteLength(text.slice(0, at))}\\)`));
      assert.doesNotMatch(err.message, /PkgName|#/);
    }
  });

  it('refuses other shapes with trivy_invalid or scan_target_missing', async () => {
    const cases: [string, ParseOptions, string, RegExp][] = [
      ['{"ArtifactName":"a","Results":[]}', {}, 'trivy_invalid', /SchemaVersion must be 2/],
      ['{"SchemaVersion":2,"ArtifactName":"."}', {}, 'scan_target_missing', /\?target=/],
      ['{"SchemaVersion":2}', {}, 'scan_target_missing', /\?target=/],
      ['{"ClusterName":"prod","Resources":[]}', {}, 'trivy_invalid', /Kubernetes/],
      [
        '{"SchemaVersion":2,"Results":[{"Target":"t","Secrets":[{"RuleID":"r"}]}],"ArtifactName":"a"}',
        {},
        'trivy_invalid',
        /Results come before ArtifactName/,
      ],
      [
        '{"SchemaVersion":2,"ArtifactName":"a","Results":[{"Secrets":[{"RuleID":"r"}],"Target":"t"}]}',
        {},
        'trivy_invalid',
        /Results\[0\]: Target must come before Secrets/,
      ],
      [
        '{"SchemaVersion":2,"ArtifactName":"a","Results":[{"Target":"t","Secrets":{"k":{}}}]}',
        {},
        'trivy_invalid',
        /Secrets must be an array/,
      ],
      ['"just a string"', {}, 'trivy_invalid', /must be a JSON object/],
      ['  ', {}, 'invalid_json', /empty/],
    ];
    for (const [doc, options, code, message] of cases) {
      const err = await refusal(trivyParser, doc, options);
      assert.equal(err.code, code, doc);
      assert.match(err.message, message, doc);
      assert.doesNotMatch(err.message, /prod|"t"/);
    }
  });

  it('takes Results before ArtifactName when ?target= names the target', async () => {
    const doc =
      '{"SchemaVersion":2,"Results":[{"Target":"t","Secrets":[{"RuleID":"r"}]}],"ArtifactName":"a"}';
    const { findings, assets } = await parse(trivyParser, Buffer.from(doc), { target: 'x' });
    assert.deepEqual([findings.length, assets], [1, ['Trivy|x|']]);
  });
});

describe('Trivy parser and chunk boundaries', () => {
  for (const [name, options] of [
    ['misconfigurations_and_secrets.json', { target: 'app' }],
    ['npm-with-suppressed.json.golden', {}],
    ['legacy_no_vuln.json', { target: 'img' }],
  ] as const) {
    it(`gives the same findings for ${name} however it is split`, async () => {
      const bytes = fixture(name);
      const whole = await parse(trivyParser, bytes, options);
      await fc.assert(
        fc.asyncProperty(cutsFor(bytes.length), async (cuts) => {
          assert.deepEqual(await parse(trivyParser, bytes, options, cuts), whole);
        }),
        { numRuns: 40 },
      );
    });
  }
});
