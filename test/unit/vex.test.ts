// VEX out (issue 16 item 7): the CycloneDX 1.6 and OpenVEX 0.2.0 documents
// validate against the specifications' own schemas (vendored, no network)
// for every state and justification; the mapping tables are exhaustive;
// comments stay out unless asked for; the same input gives the same document.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ANALYSIS_JUSTIFICATIONS, ANALYSIS_RESPONSES } from '../../src/core/finding.js';
import { buildCycloneDxVex, CYCLONEDX_STATE } from '../../src/vex/cyclonedx.js';
import {
  buildOpenVex,
  OPENVEX_JUSTIFICATION,
  OPENVEX_STATUS,
  OpenVexEmptyError,
} from '../../src/vex/openvex.js';
import {
  VEX_ANALYSIS_STATES,
  type VexAnalysis,
  type VexOptions,
  type VexStatement,
} from '../../src/vex/types.js';
import { VexInputError } from '../../src/vex/verdict.js';
import { cycloneDx16Validator, openVex020Validator, SCHEMA_DIR } from '../helpers/vex-schemas.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const OPTS: VexOptions = { org: 'acme', author: 'Acme PSIRT', timestamp: NOW };
const SECRET = 'Customer words: only prod-db-7 calls this, ask Jane';
const PRINCIPAL = 'ou:acme-secops/cn=jane';

function analysis(state: VexAnalysis['state'], extra: Partial<VexAnalysis> = {}): VexAnalysis {
  return {
    state,
    justification: null,
    response: [],
    comment: SECRET,
    source: 'user',
    by: PRINCIPAL,
    at: '2026-02-01T10:00:00.000Z',
    expiresAt: null,
    ...extra,
  };
}

let n = 0;
function st(a: VexAnalysis | null, extra: Partial<VexStatement> = {}): VexStatement {
  n += 1;
  return {
    findingId: `f-${String(n).padStart(4, '0')}`,
    cve: `CVE-2024-${String(10000 + n)}`,
    purl: `pkg:maven/org.example/lib-${n}@1.${n}.0`,
    title: `lib-${n}: a vulnerability`,
    severity: 'high',
    cvss3Score: 8.1,
    cvss3Vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H',
    analysis: a,
    firstSeen: '2026-01-10T08:00:00.000Z',
    lastSeen: '2026-02-20T08:00:00.000Z',
    status: 'open',
    ...extra,
  };
}

/** Every state, every justification, every response, both ends of the fixed/analysis rules. */
const ALL: VexStatement[] = [
  st(analysis('in_triage')),
  st(analysis('exploitable', { response: ['update', 'workaround_available'] })),
  st(analysis('exploitable')),
  st(analysis('false_positive')),
  ...ANALYSIS_JUSTIFICATIONS.map((j) => st(analysis('not_affected', { justification: j }))),
  st(analysis('not_affected')),
  st(analysis('risk_accepted', { expiresAt: '2026-09-01T00:00:00.000Z' })),
  st(
    analysis('risk_accepted', {
      expiresAt: '2026-06-01T00:00:00.000Z',
      response: ['can_not_fix', 'rollback'],
    }),
  ),
  st(analysis('risk_accepted', { expiresAt: '2026-02-15T00:00:00.000Z' })),
  st(analysis('resolved')),
  st(null),
  st(null, { status: 'fixed' }),
  st(analysis('in_triage', { source: 'scanner' }), { status: 'fixed' }),
  st(analysis('false_positive'), { status: 'fixed' }),
  st(analysis('exploitable', { source: 'scanner' }), { status: 'reopened' }),
  st(analysis('exploitable'), {
    purl: 'pkg:npm/%40angular/core@16.0.0',
    cvss3Score: 5.3,
    cvss3Vector: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N',
  }),
  st(analysis('in_triage'), {
    purl: 'pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12',
    cvss3Score: null,
    cvss3Vector: null,
    severity: 'info',
  }),
  st(analysis('in_triage'), { cvss3Vector: null, cvss3Score: 9.8 }),
];

const cdxValid = cycloneDx16Validator();
const ovValid = openVex020Validator();

function assertValid(v: typeof cdxValid, doc: unknown): void {
  assert.equal(v(doc), true, JSON.stringify(v.errors, null, 2));
}

const clone = <T>(x: T): T => structuredClone(x);

describe('vendored VEX schemas', () => {
  it('are the files SOURCES lists, byte for byte', () => {
    const sources = readFileSync(join(SCHEMA_DIR, 'SOURCES'), 'utf8');
    const listed = [...sources.matchAll(/^([0-9a-f]{64}) {2}(\S+)$/gm)];
    assert.deepEqual(listed.map((m) => m[2]).sort(), [
      'bom-1.6.schema.json',
      'jsf-0.82.schema.json',
      'openvex_json_schema.json',
      'spdx.schema.json',
    ]);
    for (const [, sum, file] of listed) {
      const actual = createHash('sha256')
        .update(readFileSync(join(SCHEMA_DIR, file!)))
        .digest('hex');
      assert.equal(actual, sum, file);
    }
  });
});

describe('CycloneDX VEX', () => {
  const bom = buildCycloneDxVex(ALL, OPTS);

  it('validates against the CycloneDX 1.6 schema for every state and justification', () => {
    assertValid(cdxValid, bom);
    assert.equal(bom.specVersion, '1.6');
    assert.equal(bom.vulnerabilities.length, ALL.length);
    const justifications = new Set(bom.vulnerabilities.map((v) => v.analysis.justification));
    for (const j of ANALYSIS_JUSTIFICATIONS) assert.ok(justifications.has(j), j);
    const states = new Set(bom.vulnerabilities.map((v) => v.analysis.state));
    assert.deepEqual(
      [...states].sort(),
      ['exploitable', 'false_positive', 'in_triage', 'not_affected', 'resolved'].sort(),
    );
  });

  it('validates when empty (nothing analysed yet)', () => {
    const empty = buildCycloneDxVex([], OPTS);
    assertValid(cdxValid, empty);
    assert.deepEqual(empty.vulnerabilities, []);
  });

  it('is rejected by the schema once mutated (the validation can fail)', () => {
    const mutations: ((d: any) => void)[] = [
      (d) => (d.vulnerabilities[0].analysis.state = 'risk_accepted'),
      (d) => (d.vulnerabilities[0].analysis.justification = 'component_not_present'),
      (d) => (d.vulnerabilities[0].analysis.response = ['wontfix']),
      (d) => (d.vulnerabilities[0].analysis.firstIssued = 'yesterday'),
      (d) => (d.serialNumber = 'urn:uuid:not-a-uuid'),
      (d) => (d.bomFormat = 'SPDX'),
      (d) => (d.vulnerabilities[0].affects = [{}]),
      (d) => (d.components[0].type = 'package'),
      (d) => (d.vulnerabilities[0].ratings[0].method = 'CVSSv5'),
      (d) => (d.vulnerabilities[0].unknownField = true),
    ];
    for (const m of mutations) {
      const d = clone(bom);
      m(d);
      assert.equal(cdxValid(d), false, m.toString());
    }
  });

  it('maps every vulnvault state onto the CycloneDX states', () => {
    assert.deepEqual(CYCLONEDX_STATE, {
      in_triage: 'in_triage',
      exploitable: 'exploitable',
      false_positive: 'false_positive',
      not_affected: 'not_affected',
      risk_accepted: 'exploitable',
      resolved: 'resolved',
    });
    assert.deepEqual(Object.keys(CYCLONEDX_STATE).sort(), [...VEX_ANALYSIS_STATES].sort());
  });

  it('writes a risk acceptance as exploitable, will_not_fix (or can_not_fix), expiry in detail', () => {
    const [inForce, canNot, lapsed] = ALL.filter((s) => s.analysis?.state === 'risk_accepted');
    const doc = buildCycloneDxVex([inForce!, canNot!, lapsed!], OPTS);
    const byCve = new Map(doc.vulnerabilities.map((v) => [v.id, v.analysis]));
    assert.deepEqual(byCve.get(inForce!.cve), {
      state: 'exploitable',
      response: ['will_not_fix'],
      detail: 'Risk accepted until 2026-09-01T00:00:00.000Z.',
      firstIssued: '2026-01-10T08:00:00.000Z',
      lastUpdated: '2026-02-01T10:00:00.000Z',
    });
    assert.deepEqual(byCve.get(canNot!.cve)?.response, ['can_not_fix', 'rollback']);
    // Lapsed at 2026-02-15, before the document's time: exploitable again, no acceptance.
    assert.equal(byCve.get(lapsed!.cve)?.state, 'exploitable');
    assert.equal(byCve.get(lapsed!.cve)?.response, undefined);
    assert.equal(
      byCve.get(lapsed!.cve)?.detail,
      'Risk acceptance expired at 2026-02-15T00:00:00.000Z.',
    );
  });

  it("writes a fixed finding without a person's analysis as resolved, and keeps a person's", () => {
    const fixedNone = ALL.find((s) => s.status === 'fixed' && s.analysis === null)!;
    const fixedScanner = ALL.find((s) => s.status === 'fixed' && s.analysis?.source === 'scanner')!;
    const fixedUser = ALL.find((s) => s.status === 'fixed' && s.analysis?.source === 'user')!;
    const openNone = ALL.find((s) => s.status === 'open' && s.analysis === null)!;
    const reopenedScanner = ALL.find((s) => s.status === 'reopened')!;
    const state = (s: VexStatement) =>
      bom.vulnerabilities.find((v) => v.id === s.cve)?.analysis.state;
    assert.equal(state(fixedNone), 'resolved');
    assert.equal(state(fixedScanner), 'resolved');
    assert.equal(state(fixedUser), 'false_positive');
    assert.equal(state(openNone), 'in_triage');
    assert.equal(state(reopenedScanner), 'exploitable');
  });

  it('lists each package once, bom-ref = purl, and every affects ref names a component', () => {
    const refs = bom.components.map((c) => c['bom-ref']);
    assert.equal(new Set(refs).size, refs.length);
    for (const c of bom.components) assert.equal(c['bom-ref'], c.purl);
    for (const v of bom.vulnerabilities) {
      for (const a of v.affects) assert.ok(refs.includes(a.ref), a.ref);
      assert.equal(v.source.url, `https://nvd.nist.gov/vuln/detail/${v.id}`);
    }
    const ng = bom.components.find((c) => c.purl.startsWith('pkg:npm/'))!;
    assert.deepEqual([ng.group, ng.name, ng.version], ['@angular', 'core', '16.0.0']);
    const deb = bom.components.find((c) => c.purl.startsWith('pkg:deb/'))!;
    assert.deepEqual([deb.group, deb.name, deb.version], ['debian', 'openssl', '3.0.11-1~deb12u2']);
  });

  it('rates with CVSS v3 when the finding has it, else with its severity', () => {
    const rating = (purlStart: string) =>
      bom.vulnerabilities.find((v) => v.affects[0]!.ref.startsWith(purlStart))!.ratings;
    assert.deepEqual(rating('pkg:npm/'), [
      {
        score: 5.3,
        severity: 'medium',
        method: 'CVSSv3',
        vector: 'CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N',
      },
    ]);
    assert.deepEqual(rating('pkg:deb/'), [{ severity: 'info', method: 'other' }]);
    assert.equal(bom.vulnerabilities[0]!.ratings[0]!.method, 'CVSSv31');
    const scoreOnly = ALL.at(-1)!;
    assert.deepEqual(bom.vulnerabilities.find((v) => v.id === scoreOnly.cve)!.ratings, [
      { score: 9.8, severity: 'critical', method: 'CVSSv3' },
    ]);
  });
});

describe('OpenVEX', () => {
  const doc = buildOpenVex(ALL, OPTS);

  it('validates against the OpenVEX 0.2.0 schema for every state and justification', () => {
    assertValid(ovValid, doc);
    assert.equal(doc['@context'], 'https://openvex.dev/ns/v0.2.0');
    assert.equal(doc.statements.length, ALL.length);
    assert.deepEqual([...new Set(doc.statements.map((s) => s.status))].sort(), [
      'affected',
      'fixed',
      'not_affected',
      'under_investigation',
    ]);
    for (const s of doc.statements) {
      if (s.status === 'affected') assert.ok(s.action_statement, s.vulnerability.name);
      if (s.status === 'not_affected') {
        assert.ok(s.justification ?? s.impact_statement, s.vulnerability.name);
      }
      assert.deepEqual(s.products.length, 1);
    }
  });

  it('refuses an empty export: OpenVEX requires a statement', () => {
    assert.throws(() => buildOpenVex([], OPTS), OpenVexEmptyError);
  });

  it('is rejected by the schema once mutated (the validation can fail)', () => {
    const at = (status: string) => doc.statements.findIndex((s) => s.status === status);
    const mutations: ((d: any) => void)[] = [
      (d) => delete d.statements[at('affected')].action_statement,
      (d) => {
        const s = d.statements[at('not_affected')];
        delete s.justification;
        delete s.impact_statement;
      },
      (d) => (d.statements[at('not_affected')].justification = 'code_not_reachable'),
      (d) => (d.statements[0].status = 'exploitable'),
      (d) => (d.statements = []),
      (d) => (d.timestamp = '1 March 2026'),
      (d) => (d.version = 0),
      (d) => delete d.author,
      (d) => (d.statements[1] = d.statements[0]),
      (d) => (d.statements[0].products = [{ name: 'x' }]),
      // The formats are checked too (iri is defined in test/helpers/vex-schemas.ts).
      (d) => (d['@id'] = 'vex document 1'),
      (d) => (d.statements[0].products[0]['@id'] = 'log4j-core 2.13.2'),
    ];
    for (const m of mutations) {
      const d = clone(doc);
      m(d);
      assert.equal(ovValid(d), false, m.toString());
    }
  });

  it('maps every vulnvault state onto an OpenVEX status', () => {
    assert.deepEqual(OPENVEX_STATUS, {
      in_triage: 'under_investigation',
      exploitable: 'affected',
      risk_accepted: 'affected',
      false_positive: 'not_affected',
      not_affected: 'not_affected',
      resolved: 'fixed',
    });
    assert.deepEqual(Object.keys(OPENVEX_STATUS).sort(), [...VEX_ANALYSIS_STATES].sort());
  });

  it('maps every CycloneDX justification onto an OpenVEX one, and keeps the original in impact_statement', () => {
    assert.deepEqual(OPENVEX_JUSTIFICATION, {
      code_not_present: 'vulnerable_code_not_present',
      code_not_reachable: 'vulnerable_code_not_in_execute_path',
      requires_configuration: 'vulnerable_code_cannot_be_controlled_by_adversary',
      requires_dependency: 'vulnerable_code_cannot_be_controlled_by_adversary',
      requires_environment: 'vulnerable_code_cannot_be_controlled_by_adversary',
      protected_by_compiler: 'inline_mitigations_already_exist',
      protected_at_runtime: 'inline_mitigations_already_exist',
      protected_at_perimeter: 'inline_mitigations_already_exist',
      protected_by_mitigating_control: 'inline_mitigations_already_exist',
    });
    for (const j of ANALYSIS_JUSTIFICATIONS) {
      const s = st(analysis('not_affected', { justification: j }));
      const [out] = buildOpenVex([s], OPTS).statements;
      assert.equal(out!.status, 'not_affected');
      assert.equal(out!.justification, OPENVEX_JUSTIFICATION[j]);
      assert.match(out!.impact_statement!, new RegExp(`CycloneDX justification ${j}\\)`));
    }
  });

  it("says false positive in impact_statement and a risk acceptance's expiry in action_statement", () => {
    const find = (state: string, i = 0) =>
      doc.statements.find(
        (s) => s.vulnerability.name === ALL.filter((x) => x.analysis?.state === state)[i]!.cve,
      )!;
    const fp = find('false_positive');
    assert.equal(fp.status, 'not_affected');
    assert.equal(fp.justification, undefined);
    assert.match(fp.impact_statement!, /^False positive/);
    const ra = find('risk_accepted');
    assert.equal(ra.status, 'affected');
    assert.equal(
      ra.action_statement,
      'Risk accepted until 2026-09-01T00:00:00.000Z. The vulnerability will not be fixed.',
    );
    assert.match(find('risk_accepted', 1).action_statement!, /can not be fixed.*Roll back/);
    assert.match(find('risk_accepted', 2).action_statement!, /expired at 2026-02-15/);
    assert.match(find('exploitable').action_statement!, /^Update to a release/);
    assert.equal(find('exploitable', 1).action_statement, 'No remediation has been decided yet.');
  });

  it('words every response in the fixed vocabulary', () => {
    for (const r of ANALYSIS_RESPONSES) {
      const [out] = buildOpenVex([st(analysis('exploitable', { response: [r] }))], OPTS).statements;
      assert.ok(out!.action_statement && out!.action_statement.length > 10, r);
      assert.notEqual(out!.action_statement, 'No remediation has been decided yet.');
    }
  });
});

describe('VEX comments', () => {
  it('are left out by default, with the principal and the finding ids', () => {
    for (const text of [
      JSON.stringify(buildCycloneDxVex(ALL, OPTS)),
      JSON.stringify(buildOpenVex(ALL, OPTS)),
    ]) {
      assert.ok(!text.includes('Customer words'), 'comment');
      assert.ok(!text.includes('jane'), 'principal');
      assert.ok(!text.includes('f-0'), 'finding id');
    }
  });

  it('go into detail / impact_statement / action_statement with includeComments', () => {
    const opts = { ...OPTS, includeComments: true };
    // A comment belongs to an analysis in force: not to a scanner's verdict on a fixed finding.
    const hasComment = (s: VexStatement) =>
      s.analysis !== null && (s.analysis.source === 'user' || s.status !== 'fixed');
    const bom = buildCycloneDxVex(ALL, opts);
    const ov = buildOpenVex(ALL, opts);
    for (const s of ALL) {
      const v = bom.vulnerabilities.find((x) => x.id === s.cve)!;
      assert.equal(v.analysis.detail?.endsWith(SECRET) ?? false, hasComment(s), s.cve);
      const o = ov.statements.find((x) => x.vulnerability.name === s.cve)!;
      const text =
        o.status === 'affected'
          ? o.action_statement
          : o.status === 'not_affected'
            ? o.impact_statement
            : o.status_notes;
      assert.equal(text?.endsWith(SECRET), hasComment(s), s.cve);
    }
    assert.ok(!JSON.stringify(ov).includes('jane'), 'principal still out');
    assert.ok(!JSON.stringify(bom).includes('jane'), 'principal still out');
    assertValid(cdxValid, bom);
    assertValid(ovValid, ov);
  });

  it('do not change the document id when left out', () => {
    const other = ALL.map((s) =>
      s.analysis === null ? s : { ...s, analysis: { ...s.analysis, comment: 'something else' } },
    );
    assert.equal(
      buildCycloneDxVex(other, OPTS).serialNumber,
      buildCycloneDxVex(ALL, OPTS).serialNumber,
    );
    assert.equal(buildOpenVex(other, OPTS)['@id'], buildOpenVex(ALL, OPTS)['@id']);
  });
});

describe('VEX determinism', () => {
  const UUID5 = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('gives the same document for the same statements, in any order', () => {
    const shuffled = [...ALL].reverse();
    const a = buildCycloneDxVex(ALL, OPTS);
    assert.deepEqual(buildCycloneDxVex(shuffled, { ...OPTS, timestamp: new Date(NOW) }), a);
    assert.equal(JSON.stringify(buildCycloneDxVex(shuffled, OPTS)), JSON.stringify(a));
    assert.equal(
      JSON.stringify(buildOpenVex(shuffled, OPTS)),
      JSON.stringify(buildOpenVex(ALL, OPTS)),
    );
    assert.match(a.serialNumber, UUID5);
    assert.match(buildOpenVex(ALL, OPTS)['@id'], UUID5);
  });

  it('gives a new id when the content, the time, the org or the seed changes', () => {
    const ids = (o: VexOptions, s = ALL) => [
      buildCycloneDxVex(s, o).serialNumber,
      buildOpenVex(s, o)['@id'],
    ];
    const all = [
      ...ids(OPTS),
      ...ids({ ...OPTS, timestamp: new Date(NOW.getTime() + 1000) }),
      ...ids({ ...OPTS, org: 'other' }),
      ...ids({ ...OPTS, idSeed: 'request-2' }),
      ...ids(OPTS, ALL.slice(1)),
    ];
    assert.equal(new Set(all).size, all.length);
  });
});

describe('VEX merging of findings with the same CVE and package', () => {
  const cve = 'CVE-2021-44228';
  const purl = 'pkg:maven/org.apache.logging.log4j/log4j-core@2.13.2';
  const same = (a: VexAnalysis | null, extra: Partial<VexStatement> = {}) =>
    st(a, { cve, purl, ...extra });

  it('says the most cautious verdict, once, from the earliest sighting', () => {
    const input = [
      same(analysis('not_affected', { justification: 'code_not_reachable' }), {
        firstSeen: '2025-12-01T00:00:00.000Z',
      }),
      same(analysis('exploitable', { response: ['update'] })),
      same(analysis('false_positive')),
    ];
    const bom = buildCycloneDxVex(input, OPTS);
    assert.equal(bom.vulnerabilities.length, 1);
    assert.equal(bom.components.length, 1);
    assert.equal(bom.vulnerabilities[0]!.analysis.state, 'exploitable');
    assert.equal(bom.vulnerabilities[0]!.analysis.firstIssued, '2025-12-01T00:00:00.000Z');
    const ov = buildOpenVex(input, OPTS);
    assert.equal(ov.statements.length, 1);
    assert.equal(ov.statements[0]!.status, 'affected');
    assertValid(ovValid, ov);
  });

  it('takes the latest analysis between equally cautious ones', () => {
    const input = [
      same(
        analysis('not_affected', {
          justification: 'code_not_present',
          at: '2026-02-10T00:00:00.000Z',
        }),
      ),
      same(
        analysis('not_affected', {
          justification: 'protected_at_runtime',
          at: '2026-02-11T00:00:00.000Z',
        }),
      ),
    ];
    for (const order of [input, [...input].reverse()]) {
      const [v] = buildCycloneDxVex(order, OPTS).vulnerabilities;
      assert.equal(v!.analysis.justification, 'protected_at_runtime');
    }
  });
});

describe('VEX input', () => {
  const bad: [string, Partial<VexStatement>][] = [
    ['a non-CVE id', { cve: 'GHSA-jfh8-c2jp-5v3q' }],
    ['a purl without version', { purl: 'pkg:maven/org.example/lib' }],
    ['a location that is not a purl', { purl: 'src/app.py:12' }],
    ['a purl with a space', { purl: 'pkg:generic/a b@1' }],
    ['a time without zone', { firstSeen: '2026-01-10 08:00' }],
    ['a CVSS score out of range', { cvss3Score: 11 }],
    ['a risk acceptance without expiry', { analysis: analysis('risk_accepted') }],
  ];
  for (const [what, extra] of bad) {
    it(`refuses ${what}`, () => {
      const s = st(analysis('in_triage'), extra);
      assert.throws(() => buildCycloneDxVex([s], OPTS), VexInputError);
      assert.throws(() => buildOpenVex([s], OPTS), VexInputError);
    });
  }

  it('refuses an invalid clock', () => {
    assert.throws(
      () => buildCycloneDxVex([], { ...OPTS, timestamp: new Date('x') }),
      VexInputError,
    );
  });
});
