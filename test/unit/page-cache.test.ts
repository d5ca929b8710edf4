import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openFindingsDb, openFindingsDbReadOnly } from '../../src/adapters/sqlite/database.js';
import { createSqliteFindingsReader } from '../../src/adapters/sqlite/findings-reader.js';
import { createSqliteFindingsWriter } from '../../src/adapters/sqlite/findings-writer.js';
import { withPageCache } from '../../src/adapters/sqlite/page-cache.js';

const rec = (i: number, org = 'org1') => ({
  vulnId: `V-${i}`,
  org,
  asset: 'a',
  dueDate: '2026-12-31',
  pluginId: String(i),
  title: 't',
  priority: 'P1',
});

describe('findings page cache', () => {
  it('serves a repeated page from memory and drops it after any commit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vv-cache-'));
    const w = openFindingsDb(join(dir, 'f.db'));
    const r = openFindingsDbReadOnly(join(dir, 'f.db'));
    try {
      const writer = createSqliteFindingsWriter(w);
      await writer.insertSeedBatch([rec(1), rec(2), rec(1, 'org2')]);
      const reader = withPageCache(createSqliteFindingsReader(r), r);
      const a = await reader.listByOrg('org1', 0, 10);
      const b = await reader.listByOrg('org1', 0, 10);
      assert.equal(a, b, 'the same frozen page');
      assert.ok(Object.isFrozen(a) && Object.isFrozen(a.items[0]));
      assert.equal(a.items.length, 2);
      assert.notEqual(await reader.listByOrg('org2', 0, 10), a, 'keyed by org');
      assert.equal((await reader.listByOrg('org2', 0, 10)).items[0]?.org, 'org2');

      await writer.insertSeedBatch([rec(3)]);
      const c = await reader.listByOrg('org1', 0, 10);
      assert.notEqual(c, a);
      assert.equal(c.items.length, 3, 'a commit by another connection is seen at once');
    } finally {
      r.close();
      w.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps at most maxRows rows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vv-cache-'));
    const w = openFindingsDb(join(dir, 'f.db'));
    const r = openFindingsDbReadOnly(join(dir, 'f.db'));
    try {
      await createSqliteFindingsWriter(w).insertSeedBatch([1, 2, 3, 4, 5].map((i) => rec(i)));
      const reader = withPageCache(createSqliteFindingsReader(r), r, 6);
      const first = await reader.listByOrg('org1', 0, 5);
      await reader.listByOrg('org1', 1, 5); // evicts the first page (5 + 1 + 4 + 1 > 6)
      assert.notEqual(await reader.listByOrg('org1', 0, 5), first);
    } finally {
      r.close();
      w.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
