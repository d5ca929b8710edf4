// SARIF 2.1.0 on files the scanners wrote (CodeQL, Semgrep, Gitleaks 7 and 8,
// a SARIF-spec sample, a suppression sample): exact counts, identities that
// survive a line shift, severities from the rules, titles never taken from a
// message, targets declared for clean runs, any key order (results before
// tool), and the spill file gone after the end and after an error.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { ScannedFinding } from '../../src/core/finding.js';
import type { ParseOptions } from '../../src/formats/format.js';
import { NO_RULE, sarifParserWith, type SarifTuning } from '../../src/formats/sarif.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/sarif');
const fixture = (name: string) => readFileSync(join(FIXTURES, name));

let spillDir = '';
before(() => {
  spillDir = mkdtempSync(join(tmpdir(), 'sarif-test-'));
});
after(() => rmSync(spillDir, { recursive: true, force: true }));

/** Spill to disk from the first result, in a directory the test can look at. */
const onDisk = (): SarifTuning => ({
  spill: { memoryBytes: 0, dir: spillDir, unlinkWhileOpen: false },
});

async function parse(
  bytes: Buffer,
  options: ParseOptions = {},
  cuts: number[] = [],
  tuning: SarifTuning = { spill: { dir: spillDir } },
) {
  const findings: ScannedFinding[] = [];
  const assets: [string, string, string][] = [];
  const p = sarifParserWith(
    { finding: (f) => void findings.push(f), asset: (s, a, c) => assets.push([s, a, c ?? '']) },
    options,
    tuning,
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

const identity = (f: ScannedFinding) =>
  [f.asset, f.scanner, f.category, f.pluginId, f.port, f.protocol, f.fingerprint].join('\u0000');
const identities = (fs: ScannedFinding[]) => new Set(fs.map(identity));
const bySeverity = (fs: ScannedFinding[]) => {
  const n: Record<string, number> = {};
  for (const f of fs) n[f.severity] = (n[f.severity] ?? 0) + 1;
  return n;
};
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/** A deep copy with every startLine and endLine one further down. */
function shiftLines(v: any): any {
  if (Array.isArray(v)) return v.map(shiftLines);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    out[k] =
      (k === 'startLine' || k === 'endLine') && typeof x === 'number' ? x + 1 : shiftLines(x);
  }
  return out;
}

async function rejects(p: Promise<unknown>, code: string, pattern: RegExp, secret?: string) {
  await assert.rejects(p, (err: any) => {
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    if (secret !== undefined) assert.ok(!err.message.includes(secret), 'the message echoes input');
    return true;
  });
}

const spillFiles = () => readdirSync(spillDir);

describe('SARIF parser on CodeQL output (DefectDojo codeQL-output.sarif)', () => {
  const file = fixture('codeQL-output.sarif');
  const target = { target: 'github.com/acme/app' };

  it('reads 72 results as 72 identities on the given target', async () => {
    const { findings, assets } = await parse(file, target);
    assert.equal(findings.length, 72);
    assert.equal(identities(findings).size, 72);
    assert.deepEqual(assets, [['CodeQL', 'github.com/acme/app', '']]);
    assert.deepEqual(bySeverity(findings), { low: 57, high: 11, medium: 4 });
    assert.ok(findings.every((f) => f.port === 0 && f.protocol === 'sarif'));
    assert.ok(findings.every((f) => f.fingerprint.length === 32));
  });

  it('rates py/sql-injection high and py/unused-import low from the rules default levels', async () => {
    const { findings } = await parse(file, target);
    const sql = findings.filter((f) => f.pluginId === 'py/sql-injection');
    const unused = findings.filter((f) => f.pluginId === 'py/unused-import');
    assert.deepEqual(
      sql.map((f) => [f.severity, f.severityRaw, f.title, f.location]),
      [
        ['high', 'error', 'SQL query built from user-controlled sources', 'bad/libuser.py:12'],
        ['high', 'error', 'SQL query built from user-controlled sources', 'bad/libuser.py:25'],
      ],
    );
    assert.match(
      sql[0]!.description,
      /^This SQL query depends on \[a user-provided value\]\(1\)\./,
    );
    assert.match(sql[0]!.description, /CWE: CWE-89$/);
    assert.match(sql[0]!.solution, /SQL query/);
    assert.equal(unused.length, 40);
    assert.ok(unused.every((f) => f.severity === 'low' && f.title === 'Unused import'));
    assert.ok(!findings.some((f) => f.title.includes('is not used')), 'titles come from the rules');
  });

  it('loses exactly one identity when one result is removed, keeping every other', async () => {
    const whole = identities((await parse(file, target)).findings);
    const doc = JSON.parse(file.toString());
    for (const drop of [0, 30, 71]) {
      const copy = structuredClone(doc);
      copy.runs[0].results.splice(drop, 1);
      const fewer = identities((await parse(json(copy), target)).findings);
      assert.equal(fewer.size, 71);
      assert.ok([...fewer].every((id) => whole.has(id)));
    }
  });

  it('keeps the identity set when every line moves down by one; only locations change', async () => {
    const doc = JSON.parse(file.toString());
    const before = (await parse(file, target)).findings;
    const after = (await parse(json(shiftLines(doc)), target)).findings;
    assert.deepEqual(identities(after), identities(before));
    assert.ok(after.every((f, i) => f.location !== before[i]!.location));
  });

  it('keeps identities on a line shift without the tool fingerprints too (message hashed, numbers masked)', async () => {
    const doc = JSON.parse(file.toString());
    for (const r of doc.runs[0].results) delete r.partialFingerprints;
    const before = (await parse(json(doc), target)).findings;
    const after = (await parse(json(shiftLines(doc)), target)).findings;
    assert.equal(identities(before).size, 72, 'look-alikes in one file stay distinct');
    assert.deepEqual(identities(after), identities(before));
  });

  it('needs a target: CodeQL names no repository here', async () => {
    await rejects(parse(file), 'scan_target_missing', /SARIF file names no target.*\?target=/);
  });
});

describe('SARIF parser on Semgrep OSS 1.69 output (results before tool)', () => {
  const file = fixture('issue_10191.json');

  it('reads 77 results held until the tool is known, rated by security-severity words', async () => {
    const { findings, assets } = await parse(file, { target: 'juice-shop' });
    assert.equal(findings.length, 77);
    assert.equal(identities(findings).size, 77);
    assert.deepEqual(assets, [['Semgrep OSS', 'juice-shop', '']]);
    assert.deepEqual(bySeverity(findings), { medium: 42, high: 1, critical: 34 });
    const first = findings[0]!;
    assert.equal(
      first.title,
      "Improper limitation of a pathname to a restricted directory ('Path Traversal')",
    );
    assert.deepEqual(
      [first.severity, first.severityRaw, first.location, first.evidence],
      [
        'medium',
        'security-severity MEDIUM',
        'Gruntfile.js:75',
        "      const buffer = fs.readFileSync('dist/' + file)",
      ],
    );
    assert.match(first.description, /CWE: CWE-22$/);
  });

  it('gives the same findings whatever the chunk boundaries, in memory and spilled to disk', async () => {
    const whole = await parse(file, { target: 't' });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: file.length - 1 }), { maxLength: 8 }),
        fc.boolean(),
        async (cuts, disk) => {
          const got = await parse(file, { target: 't' }, cuts, disk ? onDisk() : undefined);
          assert.deepEqual(got, whole);
        },
      ),
      { numRuns: 20 },
    );
    assert.deepEqual(spillFiles(), []);
  });
});

describe('SARIF parser on Gitleaks output', () => {
  it('reads Gitleaks 7.5 results without ruleId by the declared rule their message starts with', async () => {
    const { findings } = await parse(fixture('gitleaks_7.5.0.sarif'), { target: 'dd' });
    assert.equal(findings.length, 8);
    assert.equal(identities(findings).size, 8, 'the same secret in two commits stays two');
    const per: Record<string, number> = {};
    for (const f of findings) per[f.pluginId] = (per[f.pluginId] ?? 0) + 1;
    assert.deepEqual(per, { 'AWS Access Key': 6, 'Asymmetric Private Key': 2 });
    assert.ok(findings.every((f) => f.title === f.pluginId && f.severity === 'medium'));
    assert.ok(findings.every((f) => !f.title.includes('detected')));
    assert.match(findings[0]!.evidence, /AKIAIOSFODNN7EXAMPLE/);
  });

  it('keeps Gitleaks 7.5 identities on a line shift (snippet hashed)', async () => {
    const file = fixture('gitleaks_7.5.0.sarif');
    const before = (await parse(file, { target: 'dd' })).findings;
    const after = (await parse(json(shiftLines(JSON.parse(file.toString()))), { target: 'dd' }))
      .findings;
    assert.deepEqual(identities(after), identities(before));
  });

  it('reads a Gitleaks 8 result whose rule is not declared by its ruleId', async () => {
    const { findings } = await parse(fixture('sarif_simple.sarif'), { target: 'repo' });
    assert.equal(findings.length, 1);
    assert.deepEqual(
      [findings[0]!.scanner, findings[0]!.pluginId, findings[0]!.title, findings[0]!.location],
      ['gitleaks', 'test-rule', 'test-rule', 'auth.py:1'],
    );
  });
});

describe('SARIF parser: targets, categories, runs', () => {
  it('takes the target from versionControlProvenance even when it comes after the results', async () => {
    const file = fixture('taint-python-report.sarif');
    const { findings, assets } = await parse(file, { target: 'ignored' });
    const repo = 'https://github.com/damiencarol/django-DefectDojo';
    assert.deepEqual(assets, [['Python Security Analysis', repo, '']]);
    assert.equal(findings.length, 11);
    assert.equal(identities(findings).size, 11);
    assert.deepEqual(bySeverity(findings), { high: 8, medium: 1, low: 2 });
    assert.ok(findings.every((f) => f.asset === repo && f.category === ''));
  });

  it('declares the target of a clean run and reports nothing', async () => {
    assert.deepEqual(await parse(fixture('appendix_k1.sarif'), { target: 'proj' }), {
      findings: [],
      assets: [['CodeScanner', 'proj', '']],
    });
    assert.deepEqual(
      (await parse(fixture('appendix_k1_double.sarif'), { target: 'proj' })).assets,
      [
        ['CodeScanner', 'proj', ''],
        ['OtherScanner', 'proj', ''],
      ],
    );
  });

  it('refuses a clean run that names no target when the upload gives none', async () => {
    await rejects(parse(fixture('appendix_k1.sarif')), 'scan_target_missing', /\?target=NAME/);
  });

  it('gives each run its own tool, target and category; normalises the repository URI', async () => {
    const doc = {
      version: '2.1.0',
      runs: [
        {
          results: [{ ruleId: 'a', message: { text: 'm1' } }],
          tool: { driver: { name: 'ToolA' } },
          versionControlProvenance: [
            { repositoryUri: 'https://ci:s3cret@github.com/acme/app.git/' },
          ],
          automationDetails: { id: 'nightly/python/2024-05-01' },
        },
        {
          tool: { driver: { name: 'ToolB' } },
          automationDetails: { id: 'pr' },
          versionControlProvenance: [{ repositoryUri: 'git@example.org:acme/lib.git' }],
          results: [{ ruleId: 'b', message: { text: 'm2' } }],
        },
        { tool: { driver: { name: 'ToolC' } }, results: [] },
      ],
    };
    const { findings, assets } = await parse(json(doc), { target: 'fallback' });
    assert.deepEqual(assets, [
      ['ToolA', 'https://github.com/acme/app', 'nightly/python'],
      ['ToolB', 'git@example.org:acme/lib', 'pr'],
      ['ToolC', 'fallback', ''],
    ]);
    // Run 1 goes out at once, run 0 (results first) at the end: order is not identity.
    assert.deepEqual(findings.map((f) => [f.scanner, f.asset, f.category]).sort(), [
      assets[0],
      assets[1],
    ]);
  });

  it('emits results at once when tool, target and category come first (no spill)', async () => {
    const doc = {
      version: '2.1.0',
      runs: [
        {
          automationDetails: { id: 'ci/' },
          versionControlProvenance: [{ repositoryUri: 'https://git.example/x' }],
          tool: {
            driver: { name: 'T', rules: [{ id: 'r', shortDescription: { text: 'Rule R' } }] },
          },
          results: [{ ruleId: 'r', ruleIndex: 0, message: { text: 'one' } }],
        },
      ],
    };
    const seen: ScannedFinding[] = [];
    const p = sarifParserWith(
      { finding: (f) => void seen.push(f), asset: () => undefined },
      {},
      onDisk(),
    );
    await p.write(json(doc));
    assert.equal(seen.length, 1, 'emitted before end()');
    assert.deepEqual(spillFiles(), []);
    await p.end();
    assert.deepEqual([seen[0]!.title, seen[0]!.category], ['Rule R', 'ci']);
  });

  it('declares nothing for a run whose tool failed, and skips absent and passed results', async () => {
    const doc = {
      version: '2.1.0',
      runs: [
        {
          tool: { driver: { name: 'T' } },
          invocations: [{ executionSuccessful: false }],
          results: [
            { ruleId: 'r', message: { text: 'gone' }, baselineState: 'absent' },
            { ruleId: 'r', message: { text: 'ok' }, kind: 'pass' },
            { ruleId: 'r', message: { text: 'still here' }, baselineState: 'unchanged' },
          ],
        },
      ],
    };
    const { findings, assets } = await parse(json(doc), { target: 'x' });
    assert.deepEqual(assets, []);
    assert.deepEqual(
      findings.map((f) => f.description),
      ['still here'],
    );
  });
});

describe('SARIF parser: rules, severities, titles', () => {
  it('finds rules by ruleIndex, rule.id, and rule.toolComponent.index into tool.extensions', async () => {
    const doc = {
      version: '2.1.0',
      runs: [
        {
          tool: {
            driver: { name: 'CodeQL', rules: [{ id: 'd/one', name: 'Driver one' }] },
            extensions: [
              { name: 'pack-a', rules: [] },
              {
                name: 'codeql/python-queries',
                rules: [
                  {
                    id: 'py/x',
                    shortDescription: { text: 'Ext X' },
                    properties: { 'security-severity': '9.8', tags: ['external/cwe/cwe-078'] },
                  },
                  { id: 'py/y', defaultConfiguration: { level: 'note' } },
                ],
              },
            ],
          },
          results: [
            { ruleIndex: 0, message: { text: 'a' } },
            { rule: { id: 'py/x', index: 0, toolComponent: { index: 1 } }, message: { text: 'b' } },
            {
              ruleId: 'py/y',
              rule: { index: 1, toolComponent: { index: 1 } },
              message: { text: 'c' },
            },
            { ruleId: 'py/y', level: 'error', message: { text: 'd' } },
            { ruleId: 'py/x', properties: { 'security-severity': 5 }, message: { text: 'e' } },
            { ruleId: 'py/y', kind: 'review', message: { text: 'f' } },
          ],
        },
      ],
    };
    const { findings } = await parse(json(doc), { target: 'x' });
    assert.deepEqual(
      findings.map((f) => [f.pluginId, f.title, f.severity, f.severityRaw]),
      [
        ['d/one', 'Driver one', 'medium', 'warning'],
        ['py/x', 'Ext X', 'critical', 'security-severity 9.8'],
        ['py/y', 'py/y', 'low', 'note'],
        ['py/y', 'py/y', 'high', 'error'],
        ['py/x', 'Ext X', 'medium', 'security-severity 5'],
        ['py/y', 'py/y', 'info', 'none'],
      ],
    );
    assert.match(findings[1]!.description, /CWE: CWE-78$/);
  });

  it('never takes a title from a message, with or without a rule', async () => {
    const secret = 'AKIAIOSFODNN7EXAMPLE';
    const message = { text: `AWS key ${secret} found` };
    const doc = {
      version: '2.1.0',
      runs: [
        {
          tool: { driver: { name: 'scanner', rules: [{ id: 'declared' }] } },
          results: [
            { message },
            { ruleId: 'undeclared', message },
            { ruleId: 'declared', message },
            { rule: { id: 'by-ref' }, message },
          ],
        },
      ],
    };
    const { findings } = await parse(json(doc), { target: 'x' });
    assert.deepEqual(
      findings.map((f) => [f.pluginId, f.title]),
      [
        [NO_RULE, NO_RULE],
        ['undeclared', 'undeclared'],
        ['declared', 'declared'],
        ['by-ref', 'by-ref'],
      ],
    );
    for (const f of findings) {
      assert.equal(f.description, message.text);
      for (const clear of [f.title, f.location, f.asset, f.pluginId, f.fingerprint]) {
        assert.ok(!clear.includes(secret) && !clear.includes('found'));
      }
    }
  });

  it('maps suppressions to the scanner analysis (DefectDojo suppression_test.sarif)', async () => {
    const { findings } = await parse(fixture('suppression_test.sarif'), { target: 'x' });
    assert.deepEqual(
      findings.map((f) => [f.pluginId, f.analysis?.state ?? null]),
      [
        ['TST0001', 'false_positive'],
        ['TST0002', 'false_positive'],
        ['TST0003', 'false_positive'],
        ['TST0004', null],
        ['TST0005', null],
      ],
    );
  });

  it('reads suppression status and justification', async () => {
    const s = (suppressions: unknown[]) => ({ ruleId: 'r', message: { text: 'm' }, suppressions });
    const doc = {
      version: '2.1.0',
      runs: [
        {
          tool: { driver: { name: 'T' } },
          results: [
            s([{ kind: 'external', status: 'rejected' }]),
            s([{ kind: 'inSource', status: 'underReview', justification: 'asked sec team' }]),
            s([
              {
                kind: 'inSource',
                status: 'accepted',
                justification: 'Input is validated upstream',
              },
            ]),
            s([{ kind: 'external', justification: "won't fix: legacy module" }]),
            s([{ kind: 'external', justification: 'dead code, never called' }]),
            s([{ kind: 'inSource', justification: 'test code only, not affected' }]),
            s([
              { kind: 'inSource', status: 'rejected' },
              { kind: 'external', justification: 'noise' },
            ]),
          ],
        },
      ],
    };
    const { findings } = await parse(json(doc), { target: 'x' });
    assert.deepEqual(
      findings.map((f) =>
        f.analysis ? [f.analysis.state, f.analysis.justification, f.analysis.response] : null,
      ),
      [
        null,
        ['in_triage', null, []],
        ['not_affected', 'protected_by_mitigating_control', []],
        ['exploitable', null, ['will_not_fix']],
        ['not_affected', 'code_not_reachable', []],
        ['not_affected', null, []],
        ['false_positive', null, []],
      ],
    );
    assert.equal(findings[2]!.analysis?.detail, 'Input is validated upstream');
  });

  it('gives the same findings whatever the chunk boundaries when results come before tool', async () => {
    const bytes = json({
      runs: [
        {
          results: [
            { ruleId: 'r1', message: { text: 'ünï "q" 1' } },
            { ruleId: 'r1', message: { text: 'ünï "q" 2' } },
            { ruleId: 'r2', level: 'error', message: { text: '☺' } },
          ],
          tool: { driver: { name: 'tool-ü', rules: [{ id: 'r1', name: 'Rule ü' }] } },
        },
      ],
      version: '2.1.0',
    });
    const whole = await parse(bytes, { target: 't' });
    assert.equal(whole.findings.length, 3);
    assert.equal(identities(whole.findings).size, 3);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 12 }),
        async (cuts) => {
          assert.deepEqual(await parse(bytes, { target: 't' }, cuts, onDisk()), whole);
        },
      ),
      // [174, 175] splits '☺' across three chunks (a CI run found it; see json-stream.test.ts)
      { numRuns: 60, examples: [[[174, 175]]] },
    );
  });
});

describe('SARIF parser: errors and the spill file', () => {
  const secret = 'SECRET-9f3c1';

  it('refuses malformed logs with a position and without echoing them', async () => {
    const run = (results: unknown[], extra: object = {}) =>
      json({ version: '2.1.0', runs: [{ tool: { driver: { name: 'T' } }, results, ...extra }] });
    await rejects(
      parse(run([{ ruleId: 'r', message: { text: secret } }, secret]), { target: 'x' }),
      'sarif_invalid',
      /^SARIF: run 0 result 1 is not an object; nothing was stored$/,
      secret,
    );
    await rejects(
      parse(run([{ ruleId: 'r', level: secret, message: { text: secret } }]), { target: 'x' }),
      'sarif_invalid',
      /^SARIF: run 0 result 0 has an unknown level; nothing was stored$/,
      secret,
    );
    await rejects(
      parse(json({ version: secret, runs: [] })),
      'sarif_invalid',
      /version must be "2\.1\.0"/,
      secret,
    );
    await rejects(
      parse(json({ version: '2.1.0', runs: [{ results: [{ ruleId: secret }] }] }), { target: 'x' }),
      'sarif_invalid',
      /^SARIF: run 0 has no tool; nothing was stored$/,
      secret,
    );
    await rejects(
      parse(Buffer.from(`{"version":"2.1.0","runs":[{"results":[{"ruleId":"${secret}"}x`)),
      'invalid_json',
      /not valid JSON \(at byte \d+\)/,
      secret,
    );
  });

  it('keeps spilled results sealed on disk and deletes the file at the end', async () => {
    const file = fixture('taint-python-report.sarif');
    const p = sarifParserWith({ finding: () => undefined, asset: () => undefined }, {}, onDisk());
    await p.write(file);
    const [name, ...more] = spillFiles();
    assert.equal(more.length, 0);
    const onDiskBytes = readFileSync(join(spillDir, name!));
    assert.ok(onDiskBytes.length > 10_000, 'the results went to disk');
    for (const clear of ['get_findings', 'taint-xmli', 'XML injection']) {
      assert.ok(!onDiskBytes.includes(clear), `"${clear}" is on disk in clear`);
    }
    await p.end();
    assert.deepEqual(spillFiles(), []);
  });

  it('deletes the spill file when the document turns out invalid, or the upload is aborted', async () => {
    const spilled = fixture('issue_10191.json');
    const cut = spilled.subarray(0, spilled.indexOf('"tool"'));
    const p = sarifParserWith({ finding: () => undefined, asset: () => undefined }, {}, onDisk());
    await p.write(cut);
    assert.equal(spillFiles().length, 1);
    await assert.rejects(async () => p.write(Buffer.from('}}}}')), { code: 'invalid_json' });
    assert.deepEqual(spillFiles(), []);

    const q = sarifParserWith({ finding: () => undefined, asset: () => undefined }, {}, onDisk());
    await q.write(cut);
    assert.equal(spillFiles().length, 1);
    await assert.rejects(async () => q.end(), { code: 'invalid_json' });
    assert.deepEqual(spillFiles(), []);

    const r = sarifParserWith({ finding: () => undefined, asset: () => undefined }, {}, onDisk());
    await r.write(cut);
    assert.equal(spillFiles().length, 1);
    await r.abort?.();
    assert.deepEqual(spillFiles(), []);
  });

  it('deletes the spill file when the target is missing at the end', async () => {
    const p = sarifParserWith({ finding: () => undefined, asset: () => undefined }, {}, onDisk());
    await p.write(fixture('issue_10191.json'));
    assert.equal(spillFiles().length, 1);
    await assert.rejects(async () => p.end(), { code: 'scan_target_missing' });
    assert.deepEqual(spillFiles(), []);
  });

  it('matches the expected.json table the integration test uses', async () => {
    const table = JSON.parse(fixture('expected.json').toString()) as any[];
    for (const row of table) {
      const { findings, assets } = await parse(
        fixture(row.file),
        row.target === null ? {} : { target: row.target },
      );
      const last = new Map(findings.map((f) => [identity(f), f]));
      assert.equal(findings.length, row.received, row.file);
      assert.equal(last.size, row.distinct, row.file);
      assert.deepEqual([...new Set(assets.map((a) => a[1]))], row.targets, row.file);
      assert.deepEqual(bySeverity([...last.values()]), row.bySeverity, row.file);
      for (const marker of row.markers as string[]) {
        assert.ok(
          findings.some((f) =>
            [f.description, f.solution, f.evidence].some((t) => t.includes(marker)),
          ),
          `${row.file}: ${marker} is not in any sealed field`,
        );
        assert.ok(
          findings.every((f) => ![f.title, f.location, f.asset].some((t) => t.includes(marker))),
          `${row.file}: ${marker} is in a clear field`,
        );
      }
    }
  });
});
