// CSH 1.2: throttling and usage plans, like API Gateway's. A global token
// bucket protects the server; each principal (OU) has the bucket of its usage
// plan (rate per second, burst) and optionally a daily or monthly quota whose
// counts persist across restarts (UsageCounter). Plans are compiled once; a
// check is a few arithmetic operations and, with a quota, a map lookup.
// Headers follow the IETF RateLimit draft: RateLimit-Policy names each limit
// (q = quota units, w = window seconds) and RateLimit gives what remains
// (r) and when it resets (t).

import type { RateSettings, ThrottleSettings, UsagePlan } from '../config/config.js';
import type { UsageCounter } from '../core/ports.js';

export interface Admitted {
  ok: true;
  policy: string;
  remaining: string;
}

export interface Refused {
  ok: false;
  code: 'rate_limited' | 'quota_exceeded';
  message: string;
  /** Whole seconds until a retry can succeed (>= 1). */
  retryAfter: number;
  policy: string;
  remaining: string;
}

export interface Throttle {
  /** The server-wide bucket; checked for every request. */
  global(): Admitted | Refused;
  /** The bucket and quota of a principal's plan; an admitted request is counted. */
  principal(key: string, ou: string): Admitted | Refused;
}

export interface ThrottleOptions extends ThrottleSettings {
  usage: UsageCounter;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  last: number;
}

/** Takes one token if there is one; otherwise returns the seconds to wait for it. */
function take(b: Bucket, r: RateSettings, now: number): number {
  b.tokens = Math.min(r.burst, b.tokens + ((now - b.last) / 1000) * r.rate);
  b.last = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return (1 - b.tokens) / r.rate;
}

const secs = (x: number) => Math.max(1, Math.ceil(x));

interface Period {
  key: string;
  end: number;
}

function periodOf(kind: 'day' | 'month', now: number): Period {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  if (kind === 'day') {
    return {
      key: d.toISOString().slice(0, 10),
      end: Date.UTC(y, m, d.getUTCDate() + 1),
    };
  }
  return { key: d.toISOString().slice(0, 7), end: Date.UTC(y, m + 1, 1) };
}

interface CompiledPlan {
  name: string;
  plan: UsagePlan;
  policy: string;
}

function compilePlan(name: string, plan: UsagePlan): CompiledPlan {
  let policy = `"${name}";q=${plan.burst};w=${secs(plan.burst / plan.rate)}`;
  if (plan.quota) {
    const w = plan.quota.period === 'day' ? 86_400 : 2_592_000;
    policy += `, "${name}-${plan.quota.period}";q=${plan.quota.limit};w=${w}`;
  }
  return { name, plan, policy };
}

export function createThrottle(opts: ThrottleOptions): Throttle {
  const now = opts.now ?? Date.now;
  const plans = new Map<string, CompiledPlan>();
  for (const [name, plan] of Object.entries(opts.plans)) plans.set(name, compilePlan(name, plan));
  const defaultPlan = plans.get(opts.defaultPlan) as CompiledPlan;
  const planOf = (ou: string): CompiledPlan =>
    (Object.hasOwn(opts.assignments, ou) ? plans.get(opts.assignments[ou] as string) : undefined) ??
    defaultPlan;

  const g = opts.global;
  const globalBucket: Bucket = { tokens: g.burst, last: now() };
  const globalPolicy = `"global";q=${g.burst};w=${secs(g.burst / g.rate)}`;
  const buckets = new Map<string, { bucket: Bucket; plan: CompiledPlan }>();
  const periods: Partial<Record<'day' | 'month', Period>> = {};
  const period = (kind: 'day' | 'month', t: number): Period => {
    let p = periods[kind];
    if (!p || t >= p.end) p = periods[kind] = periodOf(kind, t);
    return p;
  };

  return {
    global() {
      const t = now();
      const wait = take(globalBucket, g, t);
      const remaining = `"global";r=${Math.floor(globalBucket.tokens)};t=${secs((g.burst - globalBucket.tokens) / g.rate)}`;
      if (wait === 0) return { ok: true, policy: globalPolicy, remaining };
      return {
        ok: false,
        code: 'rate_limited',
        message: 'the server is over its request rate; retry later',
        retryAfter: secs(wait),
        policy: globalPolicy,
        remaining,
      };
    },

    principal(key, ou) {
      const t = now();
      let s = buckets.get(key);
      if (!s) {
        const plan = planOf(ou);
        s = { bucket: { tokens: plan.plan.burst, last: t }, plan };
        buckets.set(key, s);
      }
      const { plan, name, policy } = s.plan;
      const wait = take(s.bucket, plan, t);
      let remaining = `"${name}";r=${Math.floor(s.bucket.tokens)};t=${secs((plan.burst - s.bucket.tokens) / plan.rate)}`;
      if (wait > 0) {
        return {
          ok: false,
          code: 'rate_limited',
          message: `over the request rate of usage plan "${name}" (${plan.rate}/s, burst ${plan.burst})`,
          retryAfter: secs(wait),
          policy,
          remaining,
        };
      }
      const q = plan.quota;
      if (!q) return { ok: true, policy, remaining };
      const p = period(q.period, t);
      const used = opts.usage.count(key, p.key);
      const reset = secs((p.end - t) / 1000);
      if (used >= q.limit) {
        // The request did not happen: give its token back.
        s.bucket.tokens += 1;
        return {
          ok: false,
          code: 'quota_exceeded',
          message: `the ${q.period}ly quota of usage plan "${name}" (${q.limit} requests) is used up`,
          retryAfter: reset,
          policy,
          remaining: `${remaining}, "${name}-${q.period}";r=0;t=${reset}`,
        };
      }
      opts.usage.increment(key, p.key);
      remaining += `, "${name}-${q.period}";r=${q.limit - used - 1};t=${reset}`;
      return { ok: true, policy, remaining };
    },
  };
}
