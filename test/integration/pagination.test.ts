// GET /vuln pages: 2,500 findings paged through with no duplicate and no gap,
// in a stable order, even while new findings arrive between pages.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  call,
  demoRecord,
  makeTestDir,
  postJson,
  startVault,
  type RunningVault,
  type TestDir,
} from '../helpers/vault.js';

describe('cursor pagination', () => {
  let t: TestDir;
  let srv: RunningVault;
  before(async () => {
    t = await makeTestDir();
    srv = await startVault(t.config);
    for (let b = 0; b < 3; b++) {
      const n = b < 2 ? 1000 : 500;
      const batch = Array.from({ length: n }, (_, i) =>
        demoRecord({ VulnID: `P-${b * 1000 + i}` }),
      );
      assert.equal((await postJson(srv.port, t.ca.certPem, t.scanner, batch)).status, 201);
    }
    // Another org's findings must never show up in org1's pages.
    await postJson(srv.port, t.ca.certPem, t.scanner, [
      demoRecord({ VulnID: 'OTHER-1', Org: 'org2' }),
    ]);
  });
  after(async () => {
    await srv.close();
    t.cleanup();
  });

  const page = (q: string) =>
    call(srv.port, { path: `/vuln?org=org1${q}`, ca: t.ca.certPem, cert: t.customer });

  it('pages through 2,500 findings with no duplicate and no gap', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await page(`&limit=333${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200);
      seen.push(...res.json.items.map((i: { VulnID: string }) => i.VulnID));
      cursor = res.json.next;
      pages++;
      // A finding written mid-walk lands after the cursor: the walk neither
      // skips nor repeats what was there before.
      if (pages === 3) {
        await postJson(srv.port, t.ca.certPem, t.scanner, demoRecord({ VulnID: 'LATE-1' }));
      }
    } while (cursor !== null);
    assert.equal(pages, Math.ceil(2501 / 333));
    assert.equal(new Set(seen).size, seen.length, 'duplicates');
    const expected = [...Array.from({ length: 2500 }, (_, i) => `P-${i}`), 'LATE-1'];
    assert.deepEqual(seen, expected);
  });

  it('uses a default page of 100 and a stable order', async () => {
    const a = await page('');
    const b = await page('');
    assert.equal(a.json.items.length, 100);
    assert.deepEqual(a.json, b.json);
    assert.equal(typeof a.json.next, 'string');
  });

  it('refuses a cursor minted for another org', async () => {
    const first = await page('&limit=5');
    const res = await call(srv.port, {
      path: `/vuln?org=org2&cursor=${first.json.next}`,
      ca: t.ca.certPem,
      cert: t.customer,
    });
    assert.equal(res.status, 400);
    assert.equal(res.json.code, 'invalid_cursor');
  });
});
