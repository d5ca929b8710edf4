// The Semgrep parser on real `semgrep --json` reports (DefectDojo's unit-test
// scans, test/fixtures/semgrep/SOURCES): exact counts, identities that survive
// a line shift, clean reports, and refusals with a position.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ScannedFinding } from '../../src/core/finding.js';
import type { ParseOptions } from '../../src/formats/format.js';
import { semgrepParser } from '../../src/formats/semgrep.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/semgrep/${name}`, import.meta.url));

async function parse(
  bytes: Buffer,
  options: ParseOptions = { target: 'proj' },
  cuts: number[] = [],
) {
  const findings: ScannedFinding[] = [];
  const assets: string[] = [];
  const p = semgrepParser(
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

async function refusal(bytes: Buffer | string, options: ParseOptions = { target: 'proj' }) {
  try {
    await parse(Buffer.from(bytes), options);
  } catch (err) {
    return err as { code: string; message: string };
  }
  assert.fail('the report was accepted');
}

const identity = (f: ScannedFinding) =>
  [f.asset, f.scanner, f.category, f.pluginId, f.port, f.protocol, f.fingerprint].join('|');

function bySeverity(findings: ScannedFinding[]): Record<string, number> {
  const last = new Map(findings.map((f) => [identity(f), f.severity]));
  const out: Record<string, number> = {};
  for (const s of last.values()) out[s] = (out[s] ?? 0) + 1;
  return out;
}

const cutsFor = (len: number) => fc.array(fc.integer({ min: 1, max: len - 1 }), { maxLength: 12 });

describe('Semgrep reports', () => {
  const expected = JSON.parse(fixture('expected.json').toString()) as {
    file: string;
    received: number;
    distinct: number;
    bySeverity: Record<string, number>;
    markers: string[];
  }[];

  for (const e of expected) {
    it(`reads ${e.file}: ${e.received} results, ${e.distinct} distinct`, async () => {
      const { findings, assets } = await parse(fixture(e.file));
      assert.equal(findings.length, e.received);
      assert.equal(new Set(findings.map(identity)).size, e.distinct);
      assert.deepEqual(bySeverity(findings), e.bySeverity);
      assert.deepEqual(
        [...new Set(assets)],
        ['semgrep/proj'],
        'the target is declared, clean or not',
      );
      for (const m of e.markers) {
        const clear = findings.map((f) =>
          [f.title, f.location, f.asset, f.pluginId, f.fingerprint].join(' '),
        );
        assert.ok(!clear.join('\n').includes(m), `${m} is in clear`);
        assert.ok(
          findings.some((f) => `${f.description}${f.evidence}`.includes(m)),
          `${m} is kept`,
        );
      }
    });
  }

  it('maps a result: check_id, its last part as title, path:line, CWE and OWASP in the description', async () => {
    const { findings } = await parse(fixture('close_old_findings_report_line31.json'));
    const f = findings[0] as ScannedFinding;
    assert.equal(
      f.pluginId,
      'python.lang.security.audit.dangerous-subprocess-use-tainted-env-args.dangerous-subprocess-use-tainted-env-args',
    );
    assert.deepEqual(
      [f.title, f.location, f.severity, f.severityRaw, f.scanner, f.port, f.protocol, f.analysis],
      [
        'dangerous-subprocess-use-tainted-env-args',
        'sample/brute.py:31',
        'high',
        'ERROR',
        'semgrep',
        0,
        '',
        null,
      ],
    );
    assert.match(f.description, /^Detected subprocess function 'run' with user controlled data/);
    assert.match(f.description, /\ncwe: CWE-78: Improper Neutralization/);
    assert.match(f.description, /\nowasp: A01:2017 - Injection, A03:2021 - Injection/);
    assert.match(f.evidence, /subprocess\.run\(\[program, username, password\]/);
    assert.match(f.fingerprint, /^[0-9a-f]{32}$/);
  });

  it("keeps a result's identity when its line moves (Semgrep's own fingerprint)", async () => {
    const before = (await parse(fixture('close_old_findings_report_line31.json'))).findings[0];
    const after = (await parse(fixture('close_old_findings_report_second_run_line24.json')))
      .findings[0];
    assert.equal(identity(after as ScannedFinding), identity(before as ScannedFinding));
    assert.deepEqual(
      [before?.location, after?.location],
      ['sample/brute.py:31', 'sample/brute.py:24'],
    );
  });

  it('keeps "requires login" out of the evidence and still tells results apart', async () => {
    const { findings } = await parse(fixture('fingerprint_test.json'));
    assert.deepEqual(
      findings.map((f) => [f.title, f.location, f.severity, f.evidence]),
      [
        ['dangerous-subprocess-use-tainted-env-args', 'sample/brute.py:31', 'high', ''],
        ['string-formatted-query', 'sample/function.go:37', 'medium', ''],
      ],
    );
  });

  it('maps LOW to low and tells apart matches Semgrep numbered _0, _1, _2', async () => {
    const { findings } = await parse(fixture('high-medium-low-severities.json'));
    assert.deepEqual(
      findings.map((f) => [f.severity, f.severityRaw]),
      [
        ['low', 'LOW'],
        ['low', 'LOW'],
        ['low', 'LOW'],
      ],
    );
  });

  it('gives a nosemgrep (is_ignored) result a false_positive analysis', async () => {
    // A real result, marked as Semgrep marks a match under a nosemgrep comment.
    const doc = JSON.parse(fixture('close_old_findings_report_line31.json').toString()) as {
      results: { extra: { is_ignored: boolean } }[];
    };
    for (const r of doc.results) r.extra.is_ignored = true;
    const { findings } = await parse(Buffer.from(JSON.stringify(doc)));
    assert.deepEqual(findings[0]?.analysis, {
      state: 'false_positive',
      justification: null,
      response: [],
      detail: 'ignored in the code (nosemgrep)',
    });
  });

  it('gives the same identities on a second parse', async () => {
    const a = await parse(fixture('many_vulns.json'));
    const b = await parse(fixture('many_vulns.json'));
    assert.deepEqual(b.findings.map(identity), a.findings.map(identity));
  });

  it('needs a target: the report names none', async () => {
    const err = await refusal(fixture('empty.json'), {});
    assert.equal(err.code, 'scan_target_missing');
  });

  it('refuses what is not `semgrep --json` output, saying where, echoing nothing', async () => {
    const app = await refusal(fixture('sca-deployments-vulns.json'));
    assert.equal(app.code, 'semgrep_invalid');
    assert.match(app.message, /no "results" array/);
    const notArray = await refusal('{"results":{"secret-key":{"check_id":"x"}}}');
    assert.equal(notArray.code, 'semgrep_invalid');
    assert.match(notArray.message, /"results" is not an array/);
    const noCheck = await refusal('{"results":[{"check_id":"a","path":"p"},{"path":"s3cr3t.py"}]}');
    assert.equal(noCheck.code, 'semgrep_invalid');
    assert.match(noCheck.message, /result 2 has no check_id/);
    const array = await refusal('[{"check_id":"a"}]');
    assert.match(array.message, /must be a JSON object/);
    const truncated = await refusal('{"results":[{"check_id":"s3cr3t"');
    assert.equal(truncated.code, 'invalid_json');
    for (const err of [app, notArray, noCheck, array, truncated]) {
      assert.doesNotMatch(err.message, /s3cr3t|secret-key/);
    }
  });

  it('gives the same findings whatever the chunk boundaries', async () => {
    const bytes = fixture('close_old_findings_report_line31.json');
    const whole = await parse(bytes);
    await fc.assert(
      fc.asyncProperty(cutsFor(bytes.length), async (cuts) => {
        assert.deepEqual(await parse(bytes, { target: 'proj' }, cuts), whole);
      }),
      { numRuns: 60 },
    );
  });
});
