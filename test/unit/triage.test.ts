// Issue 16 pure rules: suppression, SLA due times, the priority score (and
// that its SQL form ranks exactly as the TypeScript one), If-Match and the
// checks of an analysis change.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { VaultError } from '../../src/core/errors.js';
import { SEVERITIES } from '../../src/core/finding.js';
import {
  DEFAULT_SLA,
  dueAtOf,
  isActive,
  priorityScore,
  SUPPRESSED_FOREVER,
  suppressedUntil,
} from '../../src/core/triage.js';
import { PRIORITY_SQL } from '../../src/adapters/sqlite/priority.js';
import { ifMatchRev, triageChange } from '../../src/functions/triage/analysis.js';

const code = (c: string, msg?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof VaultError);
  assert.equal(err.code, c);
  if (msg) assert.match(err.message, msg);
  return true;
};

describe('suppression and activity', () => {
  it("lets a person's analysis decide, else the scanner's verdict", () => {
    const fp = { state: 'false_positive' as const, expiresAt: null };
    assert.equal(suppressedUntil(fp, null), SUPPRESSED_FOREVER);
    assert.equal(
      suppressedUntil({ state: 'risk_accepted', expiresAt: '2027-01-01T00:00:00.000Z' }, null),
      '2027-01-01T00:00:00.000Z',
    );
    assert.equal(
      suppressedUntil({ state: 'exploitable', expiresAt: null }, { state: 'false_positive' }),
      null,
    );
    assert.equal(suppressedUntil(null, { state: 'resolved' }), SUPPRESSED_FOREVER);
    assert.equal(suppressedUntil(null, { state: 'in_triage' }), null);
    assert.equal(suppressedUntil(null, null), null);
  });

  it('is active when open or reopened and not suppressed at the given time', () => {
    const t = '2027-01-01T00:00:00.000Z';
    assert.equal(
      isActive({ status: 'open', suppressedUntil: t }, '2026-12-31T23:59:59.999Z'),
      false,
    );
    assert.equal(isActive({ status: 'reopened', suppressedUntil: t }, t), true);
    assert.equal(isActive({ status: 'fixed', suppressedUntil: null }, t), false);
  });
});

describe('SLA due times', () => {
  it('adds the days of the severity; info has none by default', () => {
    const since = '2026-01-01T00:00:00.000Z';
    assert.equal(dueAtOf(DEFAULT_SLA, 'critical', since), '2026-01-08T00:00:00.000Z');
    assert.equal(dueAtOf(DEFAULT_SLA, 'low', since), '2026-06-30T00:00:00.000Z');
    assert.equal(dueAtOf(DEFAULT_SLA, 'info', since), null);
  });
});

describe('priority score', () => {
  it('orders KEV first, then EPSS, then CVSS, then severity', () => {
    const kevLow = priorityScore({ kev: true, epss: 0, cvss: 0, severity: 'info' });
    const epssHigh = priorityScore({ kev: false, epss: 1, cvss: 10, severity: 'critical' });
    const cvss = priorityScore({ kev: false, epss: null, cvss: 9.9, severity: 'info' });
    const sev = priorityScore({ kev: false, epss: null, cvss: 9.8, severity: 'critical' });
    assert.ok(kevLow > epssHigh && epssHigh > cvss && cvss > sev);
  });

  it('is computed the same in SQL (re-ranking after a feed import) as in TypeScript', () => {
    const db = new Database(':memory:');
    db.exec(`CREATE TABLE findings (cves TEXT, cvss3_score REAL, cvss2_score REAL, severity TEXT);
             CREATE TABLE feed_kev (cve TEXT PRIMARY KEY);
             CREATE TABLE feed_epss (cve TEXT PRIMARY KEY, epss REAL)`);
    db.exec(`INSERT INTO feed_kev VALUES ('CVE-1')`);
    const scores: [string, number][] = [
      ['CVE-1', 0.97512],
      ['CVE-2', 0.00043],
      ['CVE-3', 0.5],
      ['CVE-4', 1],
    ];
    for (const [c, e] of scores) db.prepare('INSERT INTO feed_epss VALUES (?, ?)').run(c, e);
    const q = db.prepare(`SELECT ${PRIORITY_SQL} AS p FROM findings`).pluck();
    let n = 0;
    for (const cves of [
      [],
      ['CVE-1'],
      ['CVE-2'],
      ['CVE-2', 'CVE-3'],
      ['CVE-4', 'CVE-9'],
      ['CVE-9'],
    ]) {
      for (const [c3, c2] of [
        [null, null],
        [9.8, null],
        [null, 4.3],
        [7.25, 5],
      ] as const) {
        for (const severity of SEVERITIES) {
          db.exec('DELETE FROM findings');
          db.prepare('INSERT INTO findings VALUES (?, ?, ?, ?)').run(
            JSON.stringify(cves),
            c3,
            c2,
            severity,
          );
          const epss = cves
            .map((c) => scores.find((s) => s[0] === c)?.[1])
            .filter((x) => x !== undefined);
          const expected = priorityScore({
            kev: cves.includes('CVE-1'),
            epss: epss.length ? Math.max(...epss) : null,
            cvss: c3 ?? c2,
            severity,
          });
          assert.equal(q.get(), expected, `${JSON.stringify(cves)} ${c3} ${c2} ${severity}`);
          n++;
        }
      }
    }
    assert.equal(n, 120);
    db.close();
  });
});

describe('If-Match', () => {
  it('needs the header (428) and a revision in the ETag form (412 otherwise)', () => {
    assert.throws(() => ifMatchRev(undefined), code('precondition_required', /If-Match/));
    assert.throws(() => ifMatchRev(' '), code('precondition_required'));
    assert.throws(() => ifMatchRev('*'), code('precondition_failed'));
    assert.throws(() => ifMatchRev('"abc"'), code('precondition_failed'));
    assert.equal(ifMatchRev('"12"'), 12);
    assert.equal(ifMatchRev('W/"3"'), 3);
  });
});

describe('analysis changes', () => {
  const now = new Date('2026-06-01T00:00:00.000Z');
  it('needs expiresAt for risk_accepted, in the future and within the maximum', () => {
    assert.throws(
      () => triageChange({ state: 'risk_accepted' }, now, 365),
      code('validation_failed', /expiresAt/),
    );
    assert.throws(
      () => triageChange({ state: 'risk_accepted', expiresAt: '2026-05-01' }, now, 365),
      code('validation_failed', /future/),
    );
    assert.throws(
      () => triageChange({ state: 'risk_accepted', expiresAt: '2027-06-02' }, now, 365),
      code('validation_failed', /365 days/),
    );
    assert.equal(
      triageChange({ state: 'risk_accepted', expiresAt: '2026-07-01' }, now, 365).expiresAt,
      '2026-07-01T00:00:00.000Z',
    );
    assert.throws(
      () => triageChange({ state: 'in_triage', expiresAt: '2026-07-01' }, now, 365),
      code('validation_failed', /risk_accepted only/),
    );
  });
  it('takes a justification with not_affected only, and requires it there', () => {
    assert.throws(
      () => triageChange({ state: 'not_affected' }, now, 365),
      code('validation_failed', /justification/),
    );
    assert.throws(
      () => triageChange({ state: 'false_positive', justification: 'code_not_present' }, now, 365),
      code('validation_failed', /not_affected only/),
    );
    assert.deepEqual(
      triageChange(
        { state: 'exploitable', response: ['update', 'update'], comment: 'x' },
        now,
        365,
      ),
      {
        state: 'exploitable',
        justification: null,
        response: ['update'],
        comment: 'x',
        expiresAt: null,
      },
    );
  });
});
