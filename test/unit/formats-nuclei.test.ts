// The Nuclei parser on real results (DefectDojo's unit-test scans,
// test/fixtures/nuclei/SOURCES), JSON lines and the `-je` JSON array: exact
// counts, covered hosts, clean scans, refusals with a line number, and
// matched values kept out of what is stored in clear.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ScannedFinding } from '../../src/core/finding.js';
import type { ParseOptions } from '../../src/formats/format.js';
import { hostOf, MAX_LINE_BYTES, nucleiParser } from '../../src/formats/nuclei.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/nuclei/${name}`, import.meta.url));

async function parse(bytes: Buffer, options: ParseOptions = {}, cuts: number[] = []) {
  const findings: ScannedFinding[] = [];
  const assets: string[] = [];
  const p = nucleiParser(
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
  return { findings, assets: [...new Set(assets)] };
}

async function refusal(bytes: Buffer | string, options: ParseOptions = { target: 'h' }) {
  try {
    await parse(Buffer.from(bytes), options);
  } catch (err) {
    return err as { code: string; message: string };
  }
  assert.fail('the results were accepted');
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

describe('Nuclei results', () => {
  const expected = JSON.parse(fixture('expected.json').toString()) as {
    file: string;
    target: string | null;
    received: number;
    distinct: number;
    targets: string[];
    bySeverity: Record<string, number>;
    markers: string[];
  }[];

  for (const e of expected) {
    it(`reads ${e.file}: ${e.received} results, ${e.distinct} distinct, on ${e.targets.join(', ')}`, async () => {
      const { findings, assets } = await parse(
        fixture(e.file),
        e.target === null ? {} : { target: e.target },
      );
      assert.equal(findings.length, e.received);
      assert.equal(new Set(findings.map(identity)).size, e.distinct);
      assert.deepEqual(bySeverity(findings), e.bySeverity);
      assert.deepEqual(assets.sort(), e.targets.map((t) => `nuclei/${t}`).sort());
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

  it('maps a Nuclei 3 result: template name as title, host as target, port, type, matched URL', async () => {
    const { findings } = await parse(fixture('issue_14071.json'), { target: 'dvwa_dvwa_1' });
    const f = findings[0] as ScannedFinding;
    assert.deepEqual(
      [f.asset, f.scanner, f.pluginId, f.title, f.port, f.protocol, f.location, f.severity],
      [
        'dvwa_dvwa_1',
        'nuclei',
        'dvwa-default-login',
        'DVWA Default Login',
        80,
        'http',
        'http://dvwa_dvwa_1/index.php',
        'critical',
      ],
    );
    assert.match(f.description, /\nCWE: cwe-798\n/);
    assert.match(f.evidence, /Meta: \{"username":"admin","password":"password"\}/);
    const headers = findings.find(
      (x) => x.pluginId === 'http-missing-security-headers:x-frame-options',
    );
    assert.equal(headers?.title, 'HTTP Missing Security Headers');
  });

  it('reads CVEs and CVSS from info.classification', async () => {
    const { findings } = await parse(fixture('many_findings_new.json'));
    const f = findings[0] as ScannedFinding;
    assert.deepEqual(
      [f.pluginId, f.cves, f.cvss3Score, f.cvss3Vector, f.port, f.protocol, f.location],
      [
        'CVE-2018-15473',
        ['CVE-2018-15473'],
        5.3,
        'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N',
        22,
        'network',
        'nuclei-example.com:22',
      ],
    );
  });

  it('covers each host once, ports telling two apps on one host apart (Nuclei 2 results)', async () => {
    const { findings } = await parse(fixture('many_findings.json'));
    const bootstrap = findings.filter((f) => f.pluginId === 'tech-detect:bootstrap');
    assert.deepEqual(
      bootstrap.map((f) => [f.asset, f.port, f.location]),
      [
        ['127.0.0.1', 8080, 'http://127.0.0.1:8080/WebGoat'],
        ['127.0.0.1', 9090, 'http://127.0.0.1:9090/WebWolf'],
        ['nuclei-example.com', 443, 'https://nuclei-example.com'],
      ],
    );
  });

  it('reads the -je JSON array as the same results written as JSON lines', async () => {
    const array = fixture('multiple_v3.json');
    const lines = (JSON.parse(array.toString()) as unknown[])
      .map((r) => JSON.stringify(r))
      .join('\n');
    const a = await parse(array);
    const b = await parse(Buffer.from(`${lines}\n`));
    assert.deepEqual(b, a);
    const tls = a.findings.filter((f) => f.pluginId === 'tls-version');
    assert.equal(tls.length, 2);
    assert.equal(
      new Set(tls.map(identity)).size,
      1,
      'tls12 and tls13: one identity, the extracted version is evidence',
    );
  });

  it('needs ?target= for a result that names no host, and says which line', async () => {
    const err = await refusal(fixture('issue_14071.json'), {});
    assert.equal(err.code, 'scan_target_missing');
    assert.match(err.message, /line 27 names no host/);
  });

  it('reads an empty file as a clean scan of the given target, normalised', async () => {
    for (const body of ['', '\n\n  \r\n']) {
      const { findings, assets } = await parse(Buffer.from(body), {
        target: 'https://WWW.Example.com:8443/app',
      });
      assert.deepEqual([findings.length, assets], [0, ['nuclei/www.example.com']]);
    }
    const err = await refusal(fixture('empty.jsonl'), {});
    assert.equal(err.code, 'scan_target_missing');
  });

  it('covers the host of a result that did not match (-ms) without reporting it', async () => {
    const line = (status: boolean) =>
      JSON.stringify({
        'template-id': 't',
        host: 'a.example',
        'matched-at': 'https://a.example/',
        'matcher-status': status,
        info: { severity: 'high' },
      });
    const { findings, assets } = await parse(Buffer.from(`${line(false)}\n`));
    assert.deepEqual([findings.length, assets], [0, ['nuclei/a.example']]);
  });

  it('keeps query values and user names out of the location and the fingerprint', async () => {
    const r = (url: string) =>
      JSON.stringify({
        'template-id': 'xss',
        host: 'https://h.example',
        'matched-at': url,
        info: { name: 'XSS', severity: 'unknown' },
      });
    const { findings } = await parse(
      Buffer.from(
        `${r('https://bob:pw@h.example/s?q=%3Cs3cr3t%3E&a=1')}\n${r('https://h.example/s?a=2&q=other')}\n`,
      ),
    );
    const [a, b] = findings as [ScannedFinding, ScannedFinding];
    assert.deepEqual(
      [a.location, a.severity, a.severityRaw, a.port],
      ['https://h.example/s?a&q', 'info', 'unknown', 443],
    );
    assert.equal(identity(a), identity(b), 'the same parameters: the same finding');
    assert.doesNotMatch(`${a.location}${a.fingerprint}${a.title}${a.asset}`, /s3cr3t|bob|pw/);
    assert.match(a.evidence, /s3cr3t/, 'the full URL is evidence');
  });

  it('normalises hosts: scheme, user, port, path, case and a trailing dot go', () => {
    assert.deepEqual(
      [
        'https://u@Ex.COM:8443/a',
        'ex.com:22',
        '[::1]:80',
        'fe80::1',
        '10.10.10.10.',
        '/http://dvwa_dvwa_1/',
        ' ',
      ].map(hostOf),
      ['ex.com', 'ex.com', '::1', 'fe80::1', '10.10.10.10', 'dvwa_dvwa_1', undefined],
    );
  });

  it('refuses malformed lines, naming the line and echoing nothing', async () => {
    const ok = JSON.stringify({ 'template-id': 't', host: 'h', info: {} });
    const notJson = await refusal(`${ok}\n\n{"template-id":"s3cr3t"\n`);
    assert.equal(notJson.code, 'nuclei_invalid');
    assert.match(notJson.message, /line 3 is not valid JSON/);
    const notObject = await refusal(`${ok}\n"s3cr3t"\n`);
    assert.match(notObject.message, /line 2 is not a JSON object/);
    const noTemplate = await refusal(`${ok}\r\n{"host":"h","info":{"name":"s3cr3t"}}\r\n`);
    assert.match(noTemplate.message, /line 2 has no template-id/);
    const poison = await refusal(`{"template-id":"t","__proto__":{"s3cr3t":1}}`);
    assert.equal(poison.code, 'invalid_json');
    assert.match(poison.message, /line 1 contains a forbidden key/);
    const utf8 = await refusal(
      Buffer.concat([Buffer.from(`${ok}\n{"x":"`), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]),
    );
    assert.equal(utf8.code, 'invalid_utf8');
    assert.match(utf8.message, /line 2 /);
    const long = await refusal(`${ok}\n${ok}\n{"s3cr3t":"${'x'.repeat(MAX_LINE_BYTES)}"}\n`);
    assert.equal(long.code, 'nuclei_invalid');
    assert.match(long.message, /line 3 is longer than 1 MiB/);
    const array = await refusal('[{"template-id":"t","host":"h","info":{}}, 7]');
    assert.match(array.message, /item 2 is not a JSON object/);
    for (const err of [notJson, notObject, noTemplate, poison, utf8, long, array]) {
      assert.doesNotMatch(err.message, /s3cr3t/);
    }
  });

  it('gives the same identities on a second parse', async () => {
    const a = await parse(fixture('many_findings.json'));
    const b = await parse(fixture('many_findings.json'));
    assert.deepEqual(b.findings.map(identity), a.findings.map(identity));
  });

  it('gives the same findings whatever the chunk boundaries, JSON lines and array', async () => {
    for (const name of ['many_findings.json', 'multiple_v3.json']) {
      const bytes = fixture(name);
      const whole = await parse(bytes);
      await fc.assert(
        fc.asyncProperty(cutsFor(bytes.length), async (cuts) => {
          assert.deepEqual(await parse(bytes, {}, cuts), whole);
        }),
        { numRuns: 50 },
      );
    }
  });
});
