// The Gitleaks parser on real reports (DefectDojo's unit-test scans and
// Gitleaks' own test data, test/fixtures/gitleaks/SOURCES): exact counts,
// clean reports, refusals with a position, and the secret never kept in clear.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ScannedFinding } from '../../src/core/finding.js';
import type { ParseOptions } from '../../src/formats/format.js';
import { gitleaksParser } from '../../src/formats/gitleaks.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/gitleaks/${name}`, import.meta.url));

async function parse(
  bytes: Buffer,
  options: ParseOptions = { target: 'repo' },
  cuts: number[] = [],
) {
  const findings: ScannedFinding[] = [];
  const assets: string[] = [];
  const p = gitleaksParser(
    { finding: (f) => void findings.push(f), asset: (s, a) => assets.push(`${s}/${a}`) },
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

async function refusal(bytes: Buffer | string, options: ParseOptions = { target: 'repo' }) {
  try {
    await parse(Buffer.from(bytes), options);
  } catch (err) {
    return err as { code: string; message: string };
  }
  assert.fail('the report was accepted');
}

const identity = (f: ScannedFinding) =>
  [f.asset, f.scanner, f.category, f.pluginId, f.port, f.protocol, f.fingerprint].join('|');

const cutsFor = (len: number) => fc.array(fc.integer({ min: 1, max: len - 1 }), { maxLength: 12 });

interface Leak {
  Secret?: string;
  offender?: string;
  Match?: string;
  line?: string;
}

describe('Gitleaks reports', () => {
  const expected = JSON.parse(fixture('expected.json').toString()) as {
    file: string;
    received: number;
    distinct: number;
  }[];

  for (const e of expected) {
    it(`reads ${e.file}: ${e.received} leaks, ${e.distinct} distinct, all high, on the given target`, async () => {
      const { findings, assets } = await parse(fixture(e.file));
      assert.equal(findings.length, e.received);
      assert.equal(new Set(findings.map(identity)).size, e.distinct);
      assert.deepEqual(
        [...new Set(assets)],
        ['gitleaks/repo'],
        'the target is declared, clean or not',
      );
      assert.ok(findings.every((f) => f.severity === 'high' && f.asset === 'repo'));
    });
  }

  it('never keeps a secret, nor the match around it, in clear anywhere', async () => {
    for (const e of expected) {
      const leaks = (JSON.parse(fixture(e.file).toString()) ?? []) as Leak[];
      const { findings } = await parse(fixture(e.file));
      const stored = JSON.stringify(findings);
      for (const leak of leaks) {
        for (const s of [leak.Secret, leak.offender, leak.Match, leak.line]) {
          if (s === undefined || s === 'REDACTED' || /^\*+$/.test(s)) continue;
          assert.ok(
            !stored.includes(JSON.stringify(s).slice(1, -1)),
            `${e.file}: a secret is stored`,
          );
        }
      }
    }
  });

  it('reads the v8 shape: rule id, rule description as title, file:line, a masked secret', async () => {
    const { findings } = await parse(fixture('gitleaks8_many.json'));
    const api = findings[3];
    assert.deepEqual(
      [api?.pluginId, api?.title, api?.location, api?.severityRaw],
      ['generic-api-key', 'Generic API Key', 'tests/api.py:21', ''],
    );
    assert.match(api?.evidence ?? '', /^Secret: dfjk… \(24 characters\)\n/);
    assert.match(api?.evidence ?? '', /Commit: 69235ea9ea4d/);
    assert.match(api?.fingerprint ?? '', /^[0-9a-f]{32}$/);
  });

  it('reads the v7 shape (rule, file, lineNumber, offender)', async () => {
    const { findings } = await parse(fixture('version_7.5.0.json'));
    const f = findings[0];
    assert.deepEqual(
      [f?.pluginId, f?.title, f?.location],
      [
        'AWS Access Key',
        'AWS Access Key',
        'dojo/unittests/scans/gitlab_secret_detection_report/gitlab_secret_detection_report_1_vuln.json:13',
      ],
    );
    assert.match(f?.evidence ?? '', /^Secret: AKIA… \(20 characters\)/);
    const many = await parse(fixture('data_many.json'));
    assert.equal(many.findings[0]?.location, '.bashrc', 'no line number in the oldest reports');
    assert.match(many.findings[0]?.evidence ?? '', /^Secret: GITH… \(55 characters\)/);
  });

  it('keeps one finding for a secret found again in other commits, whatever its line', async () => {
    const { findings } = await parse(fixture('gitleaks8_many.json'));
    const [a, b] = findings;
    assert.equal(identity(a as ScannedFinding), identity(b as ScannedFinding));
    assert.notEqual(a?.evidence, b?.evidence, 'each keeps its own commit');
    const again = await parse(fixture('gitleaks8_many.json'));
    assert.deepEqual(again.findings.map(identity), findings.map(identity));
  });

  it('tells redacted leaks apart by their redacted match', async () => {
    const { findings } = await parse(fixture('redacted_data_many.json'));
    assert.equal(new Set(findings.map(identity)).size, 6);
    assert.match(findings[0]?.evidence ?? '', /^Secret: redacted by Gitleaks\n/);
  });

  it('reads `[]` and Gitleaks 7 `null` as a clean scan of the target', async () => {
    for (const doc of ['[]', ' null\n']) {
      const { findings, assets } = await parse(Buffer.from(doc), { target: 'svc' });
      assert.deepEqual([findings.length, assets], [0, ['gitleaks/svc']]);
    }
  });

  it('needs a target: the report names none', async () => {
    const err = await refusal('[]', {});
    assert.equal(err.code, 'scan_target_missing');
    assert.match(err.message, /Gitleaks/);
  });

  it('refuses what is not a Gitleaks report, saying where, echoing nothing', async () => {
    const obj = await refusal('{"RuleID":"x","Secret":"hunter2"}');
    assert.equal(obj.code, 'gitleaks_invalid');
    assert.match(obj.message, /must be a JSON array/);
    const noRule = await refusal('[{"RuleID":"a","Secret":"s3cr3t-one"},{"Secret":"s3cr3t-two"}]');
    assert.equal(noRule.code, 'gitleaks_invalid');
    assert.match(noRule.message, /leak 2 has no RuleID/);
    const notObject = await refusal('[{"RuleID":"a"}, "s3cr3t-three"]');
    assert.match(notObject.message, /leak 2 is not an object/);
    const truncated = await refusal('[{"RuleID":"a","Secret":"s3cr3t-four"');
    assert.equal(truncated.code, 'invalid_json');
    const bad = await refusal('[{"RuleID":"a","Secret":"s3cr3t-five"}x]');
    assert.equal(bad.code, 'invalid_json');
    assert.match(bad.message, /at byte 38/);
    for (const err of [obj, noRule, notObject, truncated, bad]) {
      assert.doesNotMatch(err.message, /s3cr3t|hunter2/);
    }
  });

  it('gives the same findings whatever the chunk boundaries', async () => {
    const bytes = fixture('gitleaks8_many.json');
    const whole = await parse(bytes);
    await fc.assert(
      fc.asyncProperty(cutsFor(bytes.length), async (cuts) => {
        assert.deepEqual(await parse(bytes, { target: 'repo' }, cuts), whole);
      }),
      { numRuns: 60 },
    );
  });
});
