import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatDueDate, parseDueDate } from '../../src/core/seed-record.js';

describe('due dates', () => {
  it('accepts real calendar dates and round-trips them', () => {
    assert.equal(parseDueDate('02-29-2024'), '2024-02-29');
    assert.equal(formatDueDate('2024-02-29'), '02-29-2024');
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1900-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }),
        (d) => {
          const iso = d.toISOString().slice(0, 10);
          return parseDueDate(formatDueDate(iso)) === iso;
        },
      ),
    );
  });

  it('refuses impossible dates', () => {
    for (const s of [
      '02-29-2023',
      '02-30-2024',
      '04-31-2026',
      '13-01-2026',
      '00-10-2026',
      '12-00-2026',
      '1-1-2026',
      '12-31-0000',
    ]) {
      assert.equal(parseDueDate(s), undefined, s);
    }
  });
});
