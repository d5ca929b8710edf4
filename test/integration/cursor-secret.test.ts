// Keyed page cursors end to end, over real TLS: cursors forged with the old
// unkeyed SHA-256 tags (or a q2 cursor re-tagged without the secret) are
// refused with 400 invalid_cursor; the secret lives in DIR/keys (mode 0600),
// is created for older directories at their first start, differs per
// directory, and is rotated with the real CLI while the server serves,
// the previous secret accepted for the grace period.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCliAsync } from '../helpers/cli.js';
import {
  call,
  demoRecord,
  makeTestDir,
  postJson,
  startVault,
  type Response,
  type RunningVault,
  type TestDir,
} from '../helpers/vault.js';

const b64 = (s: string) => Buffer.from(s).toString('base64url');
const sha = (s: string) => createHash('sha256').update(s).digest('base64url');

function assertInvalidCursor(r: Response, hint: RegExp): void {
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.code, 'invalid_cursor');
  assert.match(r.json.message, /^cursor is not valid for this query; pass the "next" value/);
  assert.match(r.json.message, hint);
}

describe('keyed page cursors over TLS', () => {
  let t: TestDir;
  let srv: RunningVault;
  const get = (path: string) => call(srv.port, { path, ca: t.ca.certPem, cert: t.customer });

  before(async () => {
    t = await makeTestDir();
    srv = await startVault(t.config);
    const batch = [1, 2, 3, 4, 5].map((n) => demoRecord({ VulnID: `C-${n}` }));
    assert.equal((await postJson(srv.port, t.ca.certPem, t.scanner, batch)).status, 201);
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });

  it('keeps the secret in DIR/keys/cursor-secret.json, mode 0600', () => {
    const file = join(t.dir, 'keys', 'cursor-secret.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it('pages with the cursors it issued', async () => {
    const first = await get('/vuln?org=org1&limit=2');
    assert.equal(first.status, 200);
    const second = await get(`/vuln?org=org1&limit=2&cursor=${first.json.next}`);
    assert.equal(second.status, 200, second.text);
    assert.deepEqual(
      second.json.items.map((i: { VulnID: string }) => i.VulnID),
      ['C-3', 'C-4'],
    );
    const f1 = await get('/v1/orgs/org1/findings?limit=2');
    assert.equal(f1.status, 200, f1.text);
    const f2 = await get(`/v1/orgs/org1/findings?limit=2&cursor=${f1.json.next}`);
    assert.equal(f2.status, 200, f2.text);
  });

  it('refuses cursors forged with the old unkeyed SHA-256 tags (v1 /vuln, q1 findings)', async () => {
    // Exactly what the previous scheme accepted: anyone could compute them.
    const v1 = b64(`v1:${sha('org1').slice(0, 8)}:2`);
    assertInvalidCursor(await get(`/vuln?org=org1&cursor=${v1}`), /previous page unchanged/);
    const q1 = b64(`q1:${sha(JSON.stringify(['org1', {}])).slice(0, 12)}:2`);
    assertInvalidCursor(
      await get(`/v1/orgs/org1/findings?cursor=${q1}`),
      /previous page with the same filters/,
    );
  });

  it('refuses a q2 cursor re-tagged with an unkeyed SHA-256, or with its seq altered', async () => {
    const first = await get('/vuln?org=org1&limit=1');
    const text = Buffer.from(first.json.next as string, 'base64url').toString('latin1');
    const [, seq, tag] = /^q2:(\d+):(\S{43})$/.exec(text) ?? [];
    assert.ok(seq && tag, text);
    const unkeyed = sha(JSON.stringify(['q2', 'vuln', 'ou', 'org1', null, '3']));
    assertInvalidCursor(await get(`/vuln?org=org1&cursor=${b64(`q2:3:${unkeyed}`)}`), /unchanged/);
    assertInvalidCursor(await get(`/vuln?org=org1&cursor=${b64(`q2:3:${tag}`)}`), /unchanged/);
    // The honest cursor still pages.
    assert.equal((await get(`/vuln?org=org1&cursor=${first.json.next}`)).status, 200);
  });

  it("refuses another directory's cursors: each has its own secret", async () => {
    const other = await makeTestDir();
    const srv2 = await startVault(other.config);
    try {
      const batch = [1, 2].map((n) => demoRecord({ VulnID: `O-${n}` }));
      assert.equal((await postJson(srv2.port, other.ca.certPem, other.scanner, batch)).status, 201);
      const theirs = await call(srv2.port, {
        path: '/vuln?org=org1&limit=1',
        ca: other.ca.certPem,
        cert: other.customer,
      });
      assert.equal(theirs.status, 200);
      assertInvalidCursor(await get(`/vuln?org=org1&cursor=${theirs.json.next}`), /unchanged/);
    } finally {
      await srv2.close();
      other.cleanup();
    }
  });

  it('keeps paging across `keys rotate-cursor` (grace), and stops after `--grace 0`', async () => {
    const page = async (cursor: string) => get(`/vuln?org=org1&limit=1&cursor=${cursor}`);
    const before = (await get('/vuln?org=org1&limit=1')).json.next as string;
    const rotated = await runCliAsync(['keys', 'rotate-cursor', '--dir', t.dir]);
    assert.equal(rotated.status, 0, rotated.stderr);
    assert.match(rotated.stdout, /cursors made before are accepted until \d{4}-/);
    // The server re-reads the file within keys.reloadIntervalMs (1 s).
    await new Promise((r) => setTimeout(r, 1_300));
    const during = await page(before);
    assert.equal(during.status, 200, during.text);
    const fresh = (await get('/vuln?org=org1&limit=1')).json.next as string;
    assert.notEqual(fresh, before);

    const dropped = await runCliAsync(['keys', 'rotate-cursor', '--grace', '0', '--dir', t.dir]);
    assert.equal(dropped.status, 0, dropped.stderr);
    assert.match(dropped.stdout, /cursors made before are refused from now on/);
    await new Promise((r) => setTimeout(r, 1_300));
    assertInvalidCursor(await page(before), /unchanged/);
    assertInvalidCursor(await page(fresh), /unchanged/);
    const bad = await runCliAsync(['keys', 'rotate-cursor', '--grace', '8d', '--dir', t.dir]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--grace must be 0 or a duration/);
  });
});

describe('the cursor secret at start-up', () => {
  let t: TestDir;
  before(async () => {
    t = await makeTestDir();
  });
  after(() => t.cleanup());
  const file = () => join(t.dir, 'keys', 'cursor-secret.json');

  it('creates one for a directory made before keyed cursors', async () => {
    rmSync(file());
    const srv = await startVault(t.config);
    try {
      assert.ok(existsSync(file()));
      assert.equal(statSync(file()).mode & 0o777, 0o600);
      assert.ok(srv.logs.some((l) => l.includes('created a page-cursor secret')));
    } finally {
      await srv.close();
    }
  });

  it('refuses to start when the secret is readable by others', async () => {
    chmodSync(file(), 0o644);
    try {
      await assert.rejects(startVault(t.config), /cursor secret .* readable by group or others/);
    } finally {
      chmodSync(file(), 0o600);
    }
  });
});
