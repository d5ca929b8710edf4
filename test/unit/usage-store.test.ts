import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createSqliteUsageCounter } from '../../src/adapters/sqlite/usage-store.js';

describe('usage counter (SQLite)', () => {
  it('keeps counts across a close and reopen', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vv-usage-'));
    try {
      const file = join(dir, 'usage.db');
      const a = createSqliteUsageCounter(file, () => assert.fail('flush failed'));
      for (let i = 0; i < 5; i++) a.increment('ou:x', '2026-11-24');
      a.increment('ou:y', '2026-11-24');
      assert.equal(a.count('ou:x', '2026-11-24'), 5);
      a.close();
      const b = createSqliteUsageCounter(file, () => assert.fail('flush failed'));
      assert.equal(b.count('ou:x', '2026-11-24'), 5);
      assert.equal(b.count('ou:y', '2026-11-24'), 1);
      assert.equal(b.count('ou:x', '2026-11-25'), 0);
      b.increment('ou:x', '2026-11-24');
      b.flush();
      b.close();
      const c = createSqliteUsageCounter(file, () => assert.fail('flush failed'));
      assert.equal(c.count('ou:x', '2026-11-24'), 6);
      c.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
