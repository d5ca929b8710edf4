// The ZAP XML and JSON parsers on reports ZAP wrote (DefectDojo's
// unittests/scans/zap, secureCodeBox's ZAP examples and ZAP's own report
// test resources; see test/fixtures/zap/SOURCES) and on small reports for
// what those lack: person-set confidences, several sites, bad input.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ScannedFinding } from '../../src/core/finding.js';
import type { ParseOptions, ParserFactory } from '../../src/formats/format.js';
import { withoutQueryValues, ZapAlert } from '../../src/formats/zap-common.js';
import { zapJsonParser } from '../../src/formats/zap-json.js';
import { zapXmlParser } from '../../src/formats/zap-xml.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/zap/${name}`, import.meta.url));

interface Expected {
  file: string;
  format: 'zap-xml' | 'zap-json';
  target: string | null;
  received: number;
  distinct: number;
  targets: string[];
  bySeverity: Record<string, number>;
  markers: string[];
}

async function parse(
  factory: ParserFactory,
  bytes: Buffer,
  cuts: number[] = [],
  options: ParseOptions = {},
) {
  const findings: ScannedFinding[] = [];
  const assets: string[] = [];
  const p = factory(
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

async function refusal(factory: ParserFactory, bytes: Buffer, options: ParseOptions = {}) {
  try {
    await parse(factory, bytes, [], options);
  } catch (err) {
    return err as { code: string; message: string };
  }
  assert.fail('the document was accepted');
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
const factories = { 'zap-xml': zapXmlParser, 'zap-json': zapJsonParser } as const;

/** Two sites (one origin twice), person-set confidences, an old alert without instances. */
const JSON_REPORT = Buffer.from(
  JSON.stringify({
    '@programName': 'ZAP',
    '@version': '2.16.1',
    site: [
      {
        '@name': 'https://Shop.Example.com:443',
        '@host': 'shop.example.com',
        '@port': '443',
        alerts: [
          {
            pluginid: '40012',
            alertRef: '40012',
            alert: 'Cross Site Scripting (Reflected)',
            name: 'Cross Site Scripting (Reflected)',
            riskcode: '3',
            confidence: '4',
            riskdesc: 'High (Confirmed)',
            confidencedesc: 'Confirmed',
            desc: '<p>ünïcødé desc</p>',
            instances: [
              {
                uri: 'https://shop.example.com/search?q=%3Cscript%3E&page=2#top',
                method: 'get',
                param: 'q',
                attack: '<script>alert(1)</script>',
                evidence: '<script>alert(1)</script>',
                otherinfo: '',
                'request-body': 'request body secret',
                'response-body': 'response body secret',
              },
              {
                uri: 'https://shop.example.com/search?page=3&q=x',
                method: 'GET',
                param: 'q',
                attack: 'x',
              },
              { uri: 'https://shop.example.com/search?q=y', method: 'POST', param: 'q' },
            ],
            count: '3',
            solution: '<p>Encode output</p>',
            otherinfo: '',
            reference: '<p>https://owasp.org/xss</p>',
            cweid: '79',
            wascid: '8',
            sourceid: '1',
            tags: [{ tag: 'CVE-2021-44228', link: 'https://nvd' }, { tag: 'OWASP_2021_A03' }],
          },
          {
            pluginid: '10020',
            alertRef: '10020-1',
            name: 'Missing Anti-clickjacking Header',
            riskcode: '2',
            confidence: '0',
            riskdesc: 'Medium (False Positive)',
            instances: [
              { uri: 'https://shop.example.com/', method: 'GET', param: 'x-frame-options' },
            ],
          },
        ],
      },
      { '@name': 'https://shop.example.com', alerts: [] },
      {
        '@name': 'http://clean.example.com:8080',
        alerts: [
          {
            pluginid: '10096',
            name: 'Timestamp Disclosure',
            riskcode: '0',
            confidence: '1',
            uri: 'http://clean.example.com:8080/a?b=1',
            param: '',
            evidence: '1650000000',
          },
        ],
      },
      { '@name': 'http://empty.example.com', alerts: [] },
    ],
  }),
);

/** The same report as ZAP XML. */
const XML_REPORT = Buffer.from(
  `<?xml version="1.0"?><OWASPZAPReport programName="ZAP" version="2.16.1" generated="x">
<site name="https://Shop.Example.com:443" host="shop.example.com" port="443" ssl="true"><alerts>
<alertitem><pluginid>40012</pluginid><alertRef>40012</alertRef><alert>Cross Site Scripting (Reflected)</alert>
<name>Cross Site Scripting (Reflected)</name><riskcode>3</riskcode><confidence>4</confidence>
<riskdesc>High (Confirmed)</riskdesc><confidencedesc>Confirmed</confidencedesc><desc>&lt;p&gt;ünïcødé desc&lt;/p&gt;</desc>
<instances><instance><uri>https://shop.example.com/search?q=%3Cscript%3E&amp;page=2#top</uri><method>get</method><param>q</param>
<attack>&lt;script&gt;alert(1)&lt;/script&gt;</attack><evidence><![CDATA[<script>alert(1)</script>]]></evidence><otherinfo></otherinfo>
<requestbody>request body secret</requestbody><responsebody>response body secret</responsebody></instance>
<instance><uri>https://shop.example.com/search?page=3&amp;q=x</uri><method>GET</method><param>q</param><attack>x</attack></instance>
<instance><uri>https://shop.example.com/search?q=y</uri><method>POST</method><param>q</param></instance></instances>
<count>3</count><solution>&lt;p&gt;Encode output&lt;/p&gt;</solution><otherinfo></otherinfo>
<reference>&lt;p&gt;https://owasp.org/xss&lt;/p&gt;</reference><cweid>79</cweid><wascid>8</wascid><sourceid>1</sourceid>
<tags><tag><tag>CVE-2021-44228</tag><link>https://nvd</link></tag><tag><tag>OWASP_2021_A03</tag></tag></tags></alertitem>
<alertitem><pluginid>10020</pluginid><alertRef>10020-1</alertRef><name>Missing Anti-clickjacking Header</name>
<riskcode>2</riskcode><confidence>0</confidence><riskdesc>Medium (False Positive)</riskdesc>
<instances><instance><uri>https://shop.example.com/</uri><method>GET</method><param>x-frame-options</param></instance></instances></alertitem>
</alerts></site>
<site name="https://shop.example.com"><alerts/></site>
<site name="http://clean.example.com:8080"><alerts><alertitem><pluginid>10096</pluginid><name>Timestamp Disclosure</name>
<riskcode>0</riskcode><confidence>1</confidence><uri>http://clean.example.com:8080/a?b=1</uri><param></param>
<evidence>1650000000</evidence></alertitem></alerts></site>
<site name="http://empty.example.com"><alerts></alerts></site>
</OWASPZAPReport>`,
);

describe('ZAP XML and JSON parsers', () => {
  it('match expected.json on the real reports and keep markers out of the fields stored in clear', async () => {
    const expected = JSON.parse(
      readFileSync(new URL('../fixtures/zap/expected.json', import.meta.url), 'utf8'),
    ) as Expected[];
    assert.equal(expected.length, 6);
    for (const e of expected) {
      const { findings, assets } = await parse(factories[e.format], fixture(e.file), [], {
        target: e.target ?? undefined,
      });
      assert.equal(findings.length, e.received, e.file);
      assert.equal(new Set(findings.map(identity)).size, e.distinct, e.file);
      assert.deepEqual(
        assets,
        e.targets.map((t) => `ZAP|${t}|`),
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

  it('read zap-results-first-scan.xml: one finding per page and parameter, query values merged', async () => {
    const { findings } = await parse(zapXmlParser, fixture('zap-results-first-scan.xml'));
    const xss = findings.filter((f) => f.pluginId === '10031');
    const product = xss.find((f) => f.location.includes('product.jsp'));
    assert.equal(
      product?.location,
      'GET http://bodgeit.securecodebox-demo.svc:8080/bodgeit/product.jsp?prodid (prodid)',
    );
    assert.match(product?.evidence ?? '', /product\.jsp\?prodid=22\nparam: prodid/);
    assert.match(product?.evidence ?? '', /\(and 1 more instances\)$/, '11 instances, 10 quoted');
    assert.deepEqual(
      [product?.title, product?.severity, product?.severityRaw, product?.port, product?.service],
      [
        'User Controllable HTML Element Attribute (Potential XSS)',
        'info',
        'Informational (Low)',
        8080,
        'http',
      ],
    );
    assert.match(product?.description ?? '', /CWE-20, WASC-20$/);
    assert.match(product?.solution ?? '', /^<p>Validate all input/);
  });

  it('read ZAP 2.16.1 XML with requests and responses without keeping them', async () => {
    const { findings } = await parse(zapXmlParser, fixture('zap_2.16.1_with_req_resp.xml'));
    assert.equal(findings.length, 13);
    const all = JSON.stringify(findings);
    assert.doesNotMatch(all, /user-agent: Mozilla|Set-Cookie: TiPMix/, 'headers are not kept');
    assert.equal(
      findings[0]?.location,
      'POST https://example-domain.com/cpapi/api/account/verifypasswordless (user_identifier)',
    );
  });

  it('read the same report as XML and as JSON alike', async () => {
    const xml = await parse(zapXmlParser, XML_REPORT);
    const json = await parse(zapJsonParser, JSON_REPORT);
    assert.deepEqual(xml, json);
    const { findings, assets } = json;
    assert.deepEqual(assets, [
      'ZAP|https://shop.example.com|',
      'ZAP|http://clean.example.com:8080|',
      'ZAP|http://empty.example.com|',
    ]);
    assert.equal(findings.length, 4);
    const [get, post, frame, stamp] = findings;
    assert.deepEqual(
      [get?.asset, get?.pluginId, get?.port, get?.protocol, get?.severity, get?.location],
      [
        'https://shop.example.com',
        '40012',
        443,
        'tcp',
        'high',
        'GET https://shop.example.com/search?page&q (q)',
      ],
    );
    assert.deepEqual(get?.cves, ['CVE-2021-44228']);
    assert.deepEqual(
      [get?.analysis?.state, get?.analysis?.detail],
      ['exploitable', 'ZAP confidence 4 (Confirmed)'],
    );
    assert.match(
      get?.evidence ?? '',
      /^GET https:\/\/shop\.example\.com\/search\?q=%3Cscript%3E&page=2#top\nparam: q\nattack: <script>alert\(1\)<\/script>/,
    );
    assert.match(
      get?.evidence ?? '',
      /\n\nGET https:\/\/shop\.example\.com\/search\?page=3&q=x\nparam: q\nattack: x$/,
    );
    assert.equal(
      get?.description,
      '<p>ünïcødé desc</p>\n\nReferences:\n<p>https://owasp.org/xss</p>\n\nCWE-79, WASC-8',
    );
    assert.doesNotMatch(JSON.stringify(findings), /body secret/);
    assert.notEqual(post?.fingerprint, get?.fingerprint, 'another method is another finding');
    assert.deepEqual([frame?.pluginId, frame?.analysis?.state], ['10020-1', 'false_positive']);
    assert.deepEqual(
      [stamp?.asset, stamp?.port, stamp?.location, stamp?.evidence, stamp?.analysis],
      [
        'http://clean.example.com:8080',
        8080,
        'http://clean.example.com:8080/a?b',
        'http://clean.example.com:8080/a?b=1\nevidence: 1650000000',
        null,
      ],
    );
  });

  it('give the same findings whatever the chunk boundaries', async () => {
    for (const [factory, bytes] of [
      [zapXmlParser, XML_REPORT],
      [zapJsonParser, JSON_REPORT],
      [zapJsonParser, fixture('zap-basic-traditional-json-plus.json')],
    ] as const) {
      const whole = await parse(factory, bytes);
      await fc.assert(
        fc.asyncProperty(cutsFor(bytes.length), async (cuts) => {
          assert.deepEqual(await parse(factory, bytes, cuts), whole);
        }),
        { numRuns: 40 },
      );
    }
  });

  it('give the same identities when the same file is uploaded again', async () => {
    for (const [factory, file] of [
      [zapXmlParser, 'zap-results-first-scan.xml'],
      [zapJsonParser, 'securecodebox-example.com.json'],
    ] as const) {
      const first = (await parse(factory, fixture(file))).findings.map(identity);
      const again = (await parse(factory, fixture(file), [777, 20_000])).findings.map(identity);
      assert.deepEqual(again, first);
    }
  });

  it('declare a clean site and take the upload target for a report of no site', async () => {
    const empty = await parse(zapXmlParser, fixture('empty_2.9.0.xml'));
    assert.deepEqual([empty.findings.length, empty.assets], [0, ['ZAP|https://isaac.nl|']]);
    const noSiteXml = Buffer.from('<OWASPZAPReport version="2.16.1"></OWASPZAPReport>');
    const noSiteJson = Buffer.from('{"@programName":"ZAP","@version":"2.16.1","site":[]}');
    for (const [factory, bytes] of [
      [zapXmlParser, noSiteXml],
      [zapJsonParser, noSiteJson],
    ] as const) {
      const { assets } = await parse(factory, bytes, [], {
        target: 'https://App.example.com:443/',
      });
      assert.deepEqual(assets, ['ZAP|https://app.example.com|']);
      assert.equal((await refusal(factory, bytes)).code, 'scan_target_missing');
    }
  });

  it('refuse malformed documents with a position, echoing nothing', async () => {
    const xml = fixture('zap-results-first-scan.xml');
    const cut = await refusal(zapXmlParser, xml.subarray(0, 30_000));
    assert.equal(cut.code, 'xml_malformed');
    assert.match(cut.message, /at line \d+, column \d+; nothing was stored$/);
    const doctype = await refusal(
      zapXmlParser,
      Buffer.from('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]><OWASPZAPReport/>'),
    );
    assert.deepEqual(
      [doctype.code, /line 2/.test(doctype.message)],
      ['xml_doctype_forbidden', true],
    );
    assert.equal((await refusal(zapXmlParser, Buffer.from('<report/>'))).code, 'xml_wrong_root');

    const json = fixture('securecodebox-example.com.json');
    const truncated = await refusal(zapJsonParser, json.subarray(0, 5000));
    assert.equal(truncated.code, 'invalid_json');
    // A bad token has a byte offset; a grammar error (a misplaced brace) has
    // none yet: the shared reader only knows offsets of the tokenizer's errors.
    const badToken = await refusal(
      zapJsonParser,
      Buffer.from('{"site":[{"@name":"https://h","alerts":[secret]}]}'),
    );
    assert.equal(badToken.code, 'invalid_json');
    assert.match(badToken.message, /\(at byte 40\); nothing was stored$/);
    assert.doesNotMatch(badToken.message, /secret/);
    const misplaced = await refusal(
      zapJsonParser,
      Buffer.from('{"site":[{"@name":"https://h","alerts":[}]}'),
    );
    assert.equal(misplaced.code, 'invalid_json');
  });

  it('refuse what is not a ZAP report, or alerts it cannot place, naming only positions', async () => {
    const cases: [ParserFactory, string, RegExp][] = [
      [zapJsonParser, '{"runs":[{"secret-key":1}]}', /no "site" array and no "@version"/],
      [zapJsonParser, '[{"site":1}]', /must be a JSON object/],
      [zapJsonParser, '{"site":{"@name":"https://secret.example.com"}}', /"site" must be an array/],
      [
        zapJsonParser,
        '{"site":[{"alerts":[{"pluginid":"1","riskcode":"1"}],"@name":"https://secret.example.com"}]}',
        /site 1 has alerts before its "@name"/,
      ],
      [zapJsonParser, '{"site":[{"@name":""}]}', /site 1 has no name/],
      [
        zapJsonParser,
        '{"site":[{"@name":"https://h","alerts":[{"pluginid":"1","riskcode":"secret-9"}]}]}',
        /alert 1 of site 1 has a riskcode outside 0–3/,
      ],
      [
        zapJsonParser,
        '{"site":[{"@name":"https://h","alerts":[{"riskcode":"1","name":"secret"}]}]}',
        /alert 1 of site 1 has no pluginid/,
      ],
      [
        zapJsonParser,
        '{"site":[{"@name":"https://h","alerts":[{"pluginid":"1","riskcode":"1","instances":["secret"]}]}]}',
        /an instance of alert 1 of site 1 is not an object/,
      ],
      [
        zapXmlParser,
        '<OWASPZAPReport><site name="https://h"><alerts><alertitem><pluginid>1</pluginid><riskcode>secret</riskcode></alertitem></alerts></site></OWASPZAPReport>',
        /^ZAP XML: alert 1 of site 1 has a riskcode outside 0–3/,
      ],
      [
        zapXmlParser,
        '<OWASPZAPReport><site name="  "><alerts/></site></OWASPZAPReport>',
        /^ZAP XML: site 1 has no name/,
      ],
    ];
    for (const [factory, doc, message] of cases) {
      const err = await refusal(factory, Buffer.from(doc));
      assert.equal(err.code, 'zap_invalid', doc);
      assert.match(err.message, message);
      assert.doesNotMatch(err.message, /secret/);
    }
  });
});

describe('ZAP alert places', () => {
  it('drop query values and fragments, sort query names', () => {
    assert.equal(
      withoutQueryValues('https://H.example.com:443/a/b?z=1&a=2&z=3#f'),
      'https://h.example.com/a/b?a&z',
    );
    assert.equal(withoutQueryValues('not a url/p?x=1&y'), 'not a url/p?x&y');
    assert.equal(withoutQueryValues('http://h'), 'http://h/');
  });

  it('flush an alert with too many places early, then the rest with the whole alert', () => {
    const out: ScannedFinding[] = [];
    const alert = new ZapAlert(
      { asset: 'http://h', port: 80, service: 'http' },
      'test alert',
      'zap_invalid',
      (f) => out.push(f),
      2,
    );
    alert.field('pluginid', '1');
    alert.field('riskcode', '2');
    for (const p of ['a', 'b', 'c', 'a']) alert.instance({ uri: `http://h/${p}`, method: 'GET' });
    assert.equal(out.length, 2, 'the first two places went when the third came');
    alert.field('solution', 'late');
    alert.end();
    assert.deepEqual(
      out.map((f) => [f.location, f.solution]),
      [
        ['GET http://h/a', ''],
        ['GET http://h/b', ''],
        ['GET http://h/c', 'late'],
        ['GET http://h/a', 'late'],
      ],
    );
    assert.equal(out[0]?.fingerprint, out[3]?.fingerprint, 'the same place keeps its identity');
  });
});
