// The spill a parser holds records in: order kept, nothing readable on disk,
// tampering detected, the file gone once disposed (and, by default, unlinked
// from the moment it is open).

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createSpill } from '../../src/formats/spill.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'spill-test-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const RECORDS = ['', 'plain ascii', 'ünïcødé ☺ "quoted"', 'x'.repeat(70_000), '{"a":[1,2,3]}'];

async function all(gen: AsyncGenerator<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const r of gen) out.push(r);
  return out;
}

describe('spill', () => {
  it('gives back what it holds, in order, without touching the disk under the memory budget', async () => {
    const s = createSpill({ dir });
    for (const r of RECORDS) s.append(r);
    await s.flush();
    assert.equal(s.path, undefined);
    assert.deepEqual(readdirSync(dir), []);
    assert.deepEqual(await all(s.records()), RECORDS);
    assert.equal(s.count, RECORDS.length);
    await s.dispose();
  });

  it('seals records on disk over the budget and reads them back across frames', async () => {
    const s = createSpill({ dir, memoryBytes: 0, unlinkWhileOpen: false });
    for (const r of RECORDS) {
      s.append(r);
      await s.flush();
    }
    s.append('after the last flush');
    const path = s.path!;
    const bytes = readFileSync(path);
    assert.ok(bytes.length > 70_000);
    for (const clear of ['plain ascii', 'quoted', 'xxxxxxxx']) assert.ok(!bytes.includes(clear));
    assert.deepEqual(await all(s.records()), [...RECORDS, 'after the last flush']);
    await s.dispose();
    assert.equal(existsSync(path), false);
    await s.dispose();
  });

  it('detects a changed byte on disk', async () => {
    const s = createSpill({ dir, memoryBytes: 0, unlinkWhileOpen: false });
    s.append('one');
    await s.flush();
    s.append('two');
    await s.flush();
    const bytes = readFileSync(s.path!);
    bytes[bytes.length - 20] = (bytes[bytes.length - 20] ?? 0) ^ 1;
    writeFileSync(s.path!, bytes);
    await assert.rejects(all(s.records()), /unable to authenticate|auth/i);
    await s.dispose();
    assert.deepEqual(readdirSync(dir), []);
  });

  it('unlinks the file as soon as it is open by default', async () => {
    const s = createSpill({ dir, memoryBytes: 0 });
    s.append('held');
    await s.flush();
    assert.ok(s.path !== undefined);
    assert.equal(existsSync(s.path), false);
    assert.deepEqual(readdirSync(dir), []);
    assert.deepEqual(await all(s.records()), ['held']);
    await s.dispose();
  });

  it('refuses use after dispose', async () => {
    const s = createSpill({ dir });
    await s.dispose();
    assert.throws(() => s.append('late'), /after dispose/);
  });
});
