import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UsageCounter } from '../../src/core/ports.js';
import { createThrottle } from '../../src/edge/throttle.js';

function memoryUsage(): UsageCounter & { data: Map<string, number> } {
  const data = new Map<string, number>();
  return {
    data,
    count: (p, period) => data.get(`${p}|${period}`) ?? 0,
    increment: (p, period) => data.set(`${p}|${period}`, (data.get(`${p}|${period}`) ?? 0) + 1),
    flush: () => {},
    close: () => {},
  };
}

describe('throttle', () => {
  const base = {
    global: { rate: 1000, burst: 1000 },
    defaultPlan: 'std',
    plans: {
      std: { rate: 2, burst: 4 },
      gold: { rate: 100, burst: 100, quota: { limit: 2, period: 'day' as const } },
    },
    assignments: { scanner: 'gold' },
  };

  it('admits a burst, then refuses until tokens refill at the plan rate', () => {
    let now = 1_000_000;
    const t = createThrottle({ ...base, usage: memoryUsage(), now: () => now });
    for (let i = 0; i < 4; i++) assert.equal(t.principal('ou:a', 'a').ok, true);
    const r = t.principal('ou:a', 'a');
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.code, 'rate_limited');
    assert.equal(!r.ok && r.retryAfter, 1);
    assert.equal(r.policy, '"std";q=4;w=2');
    now += 500; // one token at 2/s
    assert.equal(t.principal('ou:a', 'a').ok, true);
    assert.equal(t.principal('ou:a', 'a').ok, false);
  });

  it('keeps principals apart', () => {
    const t = createThrottle({ ...base, usage: memoryUsage(), now: () => 0 });
    for (let i = 0; i < 4; i++) t.principal('ou:a', 'a');
    assert.equal(t.principal('ou:a', 'a').ok, false);
    assert.equal(t.principal('ou:b', 'b').ok, true);
  });

  it('counts a quota per UTC day and resets it the next day', () => {
    let now = Date.UTC(2026, 10, 24, 23, 59, 0);
    const usage = memoryUsage();
    const t = createThrottle({ ...base, usage, now: () => now });
    assert.equal(t.principal('ou:scanner', 'scanner').ok, true);
    const second = t.principal('ou:scanner', 'scanner');
    assert.equal(second.ok, true);
    assert.match(second.remaining, /"gold-day";r=0;t=60$/);
    const over = t.principal('ou:scanner', 'scanner');
    assert.equal(over.ok, false);
    assert.equal(!over.ok && over.code, 'quota_exceeded');
    assert.equal(!over.ok && over.retryAfter, 60);
    assert.equal(usage.data.get('ou:scanner|2026-11-24'), 2, 'refused requests are not counted');
    now += 61_000;
    assert.equal(t.principal('ou:scanner', 'scanner').ok, true);
    assert.equal(usage.data.get('ou:scanner|2026-11-25'), 1);
  });

  it('keys a monthly quota by UTC month', () => {
    const usage = memoryUsage();
    const t = createThrottle({
      ...base,
      plans: { std: { rate: 100, burst: 100, quota: { limit: 5, period: 'month' as const } } },
      assignments: {},
      usage,
      now: () => Date.UTC(2026, 1, 28, 12),
    });
    assert.equal(t.principal('ou:x', 'x').ok, true);
    assert.equal(usage.data.get('ou:x|2026-02'), 1);
  });

  it('caps everyone with the global bucket', () => {
    const t = createThrottle({
      ...base,
      global: { rate: 1, burst: 2 },
      usage: memoryUsage(),
      now: () => 0,
    });
    assert.equal(t.global().ok, true);
    assert.equal(t.global().ok, true);
    const r = t.global();
    assert.equal(r.ok, false);
    assert.equal(r.policy, '"global";q=2;w=2');
  });
});
