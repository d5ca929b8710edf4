// The enrolment store (issue 15) on a real SQLite file: a token enrols once
// even when two enrolments race, a failed issuance leaves it usable, it is
// kept only as a hash, and lineage() follows renewals transitively.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openEnrolStore } from '../../src/adapters/sqlite/enrol-store.js';
import { enrolmentToken } from '../../src/edge/est-routes.js';

const dir = mkdtempSync(join(tmpdir(), 'enrol-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('enrolment store', () => {
  const file = join(dir, 'enrol.db');
  const store = openEnrolStore(file);
  after(() => store.close());
  const issue =
    (serial: string, ms = 20) =>
    () =>
      new Promise<{ serial: string }>((r) => setTimeout(() => r({ serial }), ms));

  it('lets exactly one of two racing enrolments use a token', async () => {
    const t = store.createToken('scanner', 'n1', 60_000);
    const [a, b] = await Promise.all([
      store.redeem(t.token, issue('A')),
      store.redeem(t.token, issue('B')),
    ]);
    assert.deepEqual([a.ok, b.ok].sort(), [false, true]);
    const refused = a.ok ? b : a;
    assert.deepEqual(refused, { ok: false, reason: 'used' });
    const row = store.listTokens().find((r) => r.id === t.id);
    assert.equal(row?.usedSerial, a.ok ? 'A' : 'B');
  });

  it('keeps the token usable when issuance fails, and refuses it once expired', async () => {
    const t = store.createToken('scanner', 'n2', 60_000);
    await assert.rejects(
      store.redeem(t.token, () => Promise.reject(new Error('CSR refused'))),
      /CSR refused/,
    );
    assert.equal((await store.redeem(t.token, issue('C'))).ok, true);
    const old = store.createToken('scanner', 'n3', 1_000, new Date(Date.now() - 5_000));
    assert.deepEqual(await store.redeem(old.token, issue('D')), { ok: false, reason: 'expired' });
    assert.deepEqual(await store.redeem('vvenr_short', issue('E')), {
      ok: false,
      reason: 'malformed',
    });
  });

  it('stores no token, only its hash', () => {
    const t = store.createToken('scanner', 'n4', 60_000);
    for (const f of [file, `${file}-wal`]) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(f);
      } catch {
        continue;
      }
      assert.ok(!bytes.includes(Buffer.from(t.token)), f);
      assert.ok(!bytes.includes(Buffer.from(t.token.slice(6))), f);
    }
  });

  it('follows renewals transitively, serials compared without case or leading zeros', () => {
    const rec = (serial: string, parent: string | null) =>
      store.recordIssued({ serial, parent, subject: 'CN=x', notAfter: 'x', via: 'simplereenroll' });
    rec('0AA', null);
    rec('bb', '0aa');
    rec('CC', 'BB');
    rec('dd', 'aa');
    rec('ee', 'ff');
    assert.deepEqual(store.lineage('00AA').sort(), ['aa', 'bb', 'cc', 'dd']);
    assert.deepEqual(store.lineage('cc'), ['cc']);
  });
});

describe('enrolment token from the Authorization header', () => {
  it('reads Basic (the password) and Bearer, nothing else', () => {
    const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
    assert.equal(enrolmentToken(basic('user:vvenr_x:y')), 'vvenr_x:y');
    assert.equal(enrolmentToken('Bearer vvenr_abc'), 'vvenr_abc');
    assert.equal(enrolmentToken(basic('no-colon')), undefined);
    assert.equal(enrolmentToken('Digest x'), undefined);
    assert.equal(enrolmentToken(undefined), undefined);
  });
});
