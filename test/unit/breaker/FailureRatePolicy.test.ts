import { BreakerConfigError } from '../../../src/breaker/errors';
import { FailureCountPolicy } from '../../../src/breaker/FailureCountPolicy';
import { FailureRatePolicy, type FailureRatePolicyOptions } from '../../../src/breaker/FailureRatePolicy';
import { verdictOf } from '../../../src/breaker/WindowedOpeningPolicy';

/** Window 10 s in 10 buckets of 1 s; the clock's "now" in these tests is 100 s + something. */
const base: FailureRatePolicyOptions = { failureRateThreshold: 0.5, minimumCalls: 10, windowMs: 10_000, windowBuckets: 10 };
const T = 100_000;

/** Counters from [bucketStart, successes, failures] rows. */
function buckets(...rows: Array<[start: number, successes: number, failures: number]>): Record<string, number> {
  const counters: Record<string, number> = {};
  for (const [start, s, f] of rows) {
    if (s > 0) counters[`s_${start}`] = s;
    if (f > 0) counters[`f_${start}`] = f;
  }
  return counters;
}

describe('FailureRatePolicy: counters', () => {
  const policy = new FailureRatePolicy(base);

  test.each([
    ['failure', T + 0, `f_${T}`],
    ['failure', T + 999, `f_${T}`],
    ['failure', T + 1000, `f_${T + 1000}`],
    ['success', T + 0, `s_${T}`],
    ['success', T + 999.5, `s_${T}`], // a fractional clock still names an integer bucket
    ['success', T + 1000, `s_${T + 1000}`],
  ] as const)('%s at %d goes to %s', (outcome, now, counter) => {
    expect(policy.counterFor(outcome, now)).toBe(counter);
  });

  test('failure buckets are named as FailureCountPolicy names them (switching policy keeps the failures)', () => {
    const count = new FailureCountPolicy(5, 10_000, 10);
    for (const now of [T, T + 1, T + 999, T + 1000, T + 54_321]) expect(policy.counterFor('failure', now)).toBe(count.counterFor('failure', now));
  });
});

describe('FailureRatePolicy: the rate and minimumCalls', () => {
  // All calls in the current bucket, so the span is the whole (only) bucket.
  test.each([
    // [threshold, minimumCalls, successes, failures, opens, why]
    [0.5, 10, 5, 5, true, 'exactly at the threshold opens'],
    [0.5, 10, 6, 4, false, 'just below the threshold does not'],
    [0.5, 10, 1001, 1000, false, 'just below by one call in two thousand'],
    [0.3, 10, 7, 3, true, '3/10 against 0.3: no rounding error (division, not threshold x calls)'],
    [0.7, 10, 3, 7, true, '7/10 against 0.7'],
    [0.1, 10, 27, 3, true, '3/30 against 0.1'],
    [0.5, 10, 0, 9, false, 'fewer than minimumCalls: 100 % of 9 calls does not open'],
    [0.5, 10, 0, 10, true, 'minimumCalls reached, all failed'],
    [1, 10, 0, 10, true, 'a threshold of 1 opens on nothing but failures'],
    [1, 10, 1, 10, false, 'a threshold of 1 does not open with one success'],
    [0.5, 1, 0, 1, true, 'minimumCalls 1: one failure'],
    [0.5, 10, 0, 0, false, 'no calls at all'],
  ] as Array<[number, number, number, number, boolean, string]>)('threshold %p, minimumCalls %p, %p successes, %p failures -> %p (%s)', (failureRateThreshold, minimumCalls, s, f, opens) => {
    const policy = new FailureRatePolicy({ ...base, failureRateThreshold, minimumCalls });
    const counters = buckets([T, s, f]);
    expect(policy.shouldOpen(counters, T + 500)).toBe(opens);
    expect(policy.evaluate(counters, T + 500)).toEqual({ open: opens, reason: 'failureRate', failures: f, calls: s + f });
  });

  test('slow calls and timeouts are failures: the breaker counts them as f_ (the policy just sees failures)', () => {
    const policy = new FailureRatePolicy(base);
    const counters: Record<string, number> = {};
    // 5 successes, then 3 errors, 1 slow success, 1 timeout: the caller maps all five to 'failure'.
    for (const outcome of ['success', 'success', 'success', 'success', 'success', 'failure', 'failure', 'failure', 'failure', 'failure'] as const) {
      const name = policy.counterFor(outcome, T + 10);
      counters[name] = (counters[name] ?? 0) + 1;
    }
    expect(counters).toEqual({ [`s_${T}`]: 5, [`f_${T}`]: 5 });
    expect(policy.shouldOpen(counters, T + 10)).toBe(true);
  });

  test('exempt errors store nothing, so they count neither way: 4 failures and 5 successes stay under minimumCalls', () => {
    // The breaker never asks the policy about an exempt error (isFailure false); it adds no counter.
    const policy = new FailureRatePolicy(base);
    expect(policy.shouldOpen(buckets([T, 5, 4]), T + 10)).toBe(false);
  });
});

describe('FailureRatePolicy: the rolling window', () => {
  const policy = new FailureRatePolicy({ ...base, minimumCalls: 4 });

  test.each([
    // A bucket counts while its start is later than now - windowMs.
    [T - 9_000, T + 999, true, 'the oldest bucket still in the window at the last ms'],
    [T - 9_000, T + 1_000, false, 'leaves at now - windowMs = its start'],
    [T - 10_000, T, false, 'a bucket whose start is exactly now - windowMs is out'],
  ])('a bucket at %d, judged at %d, counts: %p (%s)', (start, now, counts) => {
    const counters = buckets([start, 0, 4]);
    expect(policy.windowTotals(counters, now)).toEqual(counts ? { calls: 4, failures: 4 } : { calls: 0, failures: 0 });
    expect(policy.failuresInWindow(counters, now)).toBe(counts ? 4 : 0);
    expect(policy.shouldOpen(counters, now)).toBe(counts);
  });

  test('a failure in the last ms of a bucket and the first ms of the next fall in two buckets', () => {
    const counters: Record<string, number> = {};
    for (const now of [T + 999, T + 1000]) counters[policy.counterFor('failure', now)] = 1;
    expect(Object.keys(counters)).toEqual([`f_${T}`, `f_${T + 1000}`]);
  });

  test('ignores malformed counters and names outside the scheme', () => {
    const counters = { [`f_${T}`]: 4, [`s_${T}`]: -3, [`x_${T}`]: 100, [`s_${T + 1}`]: Number.NaN, version: 7, f_abc: 3 } as Record<string, number>;
    expect(policy.windowTotals(counters, T + 10)).toEqual({ calls: 4, failures: 4 });
  });

  test('a bucket from an instance whose clock is ahead counts as the newest', () => {
    const counters = buckets([T + 2_000, 0, 4], [T - 5_000, 100, 0]);
    expect(policy.evaluate(counters, T + 10)).toEqual({ open: true, reason: 'failureRate', failures: 4, calls: 4 });
    // With a flush lag it reaches back as far as the current bucket would: not far enough alone.
    const lagged = new FailureRatePolicy({ ...base, minimumCalls: 4, flushLagMs: 500 });
    expect(lagged.evaluate(counters, T + 10)).toEqual({ open: false, reason: 'failureRate', failures: 4, calls: 104 });
  });
});

describe('FailureRatePolicy: judging the most recent buckets', () => {
  test('a total outage after a long healthy period opens as soon as the newest buckets hold minimumCalls', () => {
    const policy = new FailureRatePolicy({ ...base, minimumCalls: 20 });
    // Nine healthy seconds at 100 calls/s (900 successes), then the current bucket: all 20 calls failed.
    const healthy = Array.from({ length: 9 }, (_, i) => [T - 9_000 + i * 1_000, 100, 0] as [number, number, number]);
    const counters = buckets(...healthy, [T, 0, 20]);
    expect(policy.evaluate(counters, T + 200)).toEqual({ open: true, reason: 'failureRate', failures: 20, calls: 20 });
    // The whole window is 2 % failed: a whole-window rate would need 900 failures more.
    expect(policy.windowTotals(counters, T + 200)).toEqual({ calls: 920, failures: 20 });
    // One failure fewer: the span takes the previous bucket in, and 19 of 119 is far below 50 %.
    expect(policy.evaluate(buckets(...healthy, [T, 0, 19]), T + 200)).toEqual({ open: false, reason: 'failureRate', failures: 19, calls: 119 });
  });

  test('the span grows bucket by bucket, newest first, until it holds minimumCalls', () => {
    const policy = new FailureRatePolicy({ ...base, minimumCalls: 10 });
    // newest: 3 failures; then 2 failures + 1 success; then 4 successes + 1 failure; then 50 successes.
    const counters = buckets([T, 0, 3], [T - 1_000, 1, 2], [T - 2_000, 4, 1], [T - 3_000, 50, 0]);
    // 3 + 3 + 5 = 11 calls >= 10: judged on 6 failures of 11 (55 %), the 50 older successes are not outvoting it.
    expect(policy.evaluate(counters, T + 10)).toEqual({ open: true, reason: 'failureRate', failures: 6, calls: 11 });
  });

  test('a quiet circuit is judged on its whole window', () => {
    const policy = new FailureRatePolicy({ ...base, minimumCalls: 10 });
    const counters = buckets([T, 0, 2], [T - 4_000, 3, 1], [T - 9_000, 2, 2]);
    expect(policy.evaluate(counters, T + 10)).toEqual({ open: true, reason: 'failureRate', failures: 5, calls: 10 });
    // The oldest bucket leaves the window: 6 calls, below minimumCalls.
    expect(policy.evaluate(counters, T + 1_000)).toEqual({ open: false, reason: 'failureRate', failures: 3, calls: 6 });
  });

  test.each([
    // flushLagMs, opens, judged failures, judged calls
    [0, true, 10, 10], // the newest bucket alone
    [750, true, 10, 10], // its start T is <= now(T+1500) - 2 x 750: still the newest bucket alone
    [751, false, 10, 110], // must reach back to T-2: takes in T-1000 (100 successes)
    [1_000, false, 10, 110], // back to T-500
    [1_750, false, 10, 210], // back to T-2000
    [2_250, false, 10, 310], // back to T-3000: the oldest bucket, the whole window
    [2_251, false, 10, 310], // further back than any count: not judged at all
    [4_500, false, 10, 310], // the longest allowed: (windowMs - bucketMs) / 2
  ])('flushLagMs %d: the span reaches back at least twice that (opens %p, %d of %d)', (flushLagMs, opens, failures, calls) => {
    // Successes reach the item up to flushLagMs late; failures at once. Here the newest bucket shows 10 failures and
    // (so far) no successes; the buckets before it are healthy.
    const policy = new FailureRatePolicy({ ...base, minimumCalls: 10, flushLagMs });
    const counters = buckets([T, 0, 10], [T - 1_000, 100, 0], [T - 2_000, 100, 0], [T - 3_000, 100, 0]);
    expect(policy.evaluate(counters, T + 1_500)).toEqual({ open: opens, reason: 'failureRate', failures, calls });
  });
});

test('counts that do not reach back 2 x flushLagMs are not judged: just after a close the fleet still holds successes', () => {
  // The item was cleared 1.5 s ago; 30 failures were written at once, the successes beside them are still held.
  const policy = new FailureRatePolicy({ ...base, minimumCalls: 20, flushLagMs: 1_000 });
  expect(policy.evaluate(buckets([T, 0, 30]), T + 500)).toEqual({ open: false, reason: 'failureRate', failures: 30, calls: 30 });
  expect(policy.evaluate(buckets([T - 1_000, 0, 10], [T, 0, 30]), T + 500)).toEqual({ open: false, reason: 'failureRate', failures: 40, calls: 40 });
  // Once the counts reach back 2 s, a real outage opens.
  expect(policy.evaluate(buckets([T - 2_000, 0, 10], [T, 0, 30]), T + 500)).toEqual({ open: true, reason: 'failureRate', failures: 40, calls: 40 });
});

describe('FailureRatePolicy: stale counters', () => {
  const policy = new FailureRatePolicy({ ...base, windowMs: 10_000, windowBuckets: 10 });

  test.each([
    // A bucket is removed once its start <= now - windowMs - bucketMs: one bucket of margin for clock skew.
    [T - 10_000, T, [], 'just out of the window: kept (margin)'],
    [T - 10_000, T + 999, [], 'still within the margin'],
    [T - 10_000, T + 1_000, ['f', 's'], 'a bucket past the margin: both kinds'],
    [T - 50_000, T, ['f', 's'], 'long gone'],
    [T - 5_000, T, [], 'live'],
  ])('bucket %d at %d -> %p (%s)', (start, now, kinds) => {
    const counters = buckets([start, 1, 1]);
    expect(policy.staleCounters(counters, now)).toEqual(kinds.map((kind) => `${kind}_${start}`));
  });

  test('at most 20 names per write, oldest first; the rest go on later writes', () => {
    const counters = buckets(...Array.from({ length: 15 }, (_, i) => [i * 1_000, 1, 1] as [number, number, number]));
    const stale = policy.staleCounters(counters, T);
    expect(stale).toHaveLength(20);
    expect(stale.slice(0, 4)).toEqual(['f_0', 's_0', 'f_1000', 's_1000']);
    expect(stale).not.toContain('f_10000');
    const rest = policy.staleCounters(Object.fromEntries(Object.entries(counters).filter(([name]) => !stale.includes(name))), T);
    expect(rest).toEqual(['f_10000', 's_10000', 'f_11000', 's_11000', 'f_12000', 's_12000', 'f_13000', 's_13000', 'f_14000', 's_14000']);
  });

  test('never names the counter an outcome at now goes to, nor anything outside the scheme', () => {
    for (const now of [T, T + 999, T + 123_456]) {
      const counters = { [policy.counterFor('failure', now)]: 1, [policy.counterFor('success', now)]: 1, version: 3, x_1: 1 };
      expect(policy.staleCounters(counters, now)).toEqual([]);
    }
  });
});

describe('FailureRatePolicy: options', () => {
  test.each([
    [{ failureRateThreshold: 0 }, 'failureRateThreshold'],
    [{ failureRateThreshold: -0.5 }, 'failureRateThreshold'],
    [{ failureRateThreshold: 1.01 }, 'failureRateThreshold'],
    [{ failureRateThreshold: 50 }, 'failureRateThreshold'], // a percentage by mistake
    [{ failureRateThreshold: Number.NaN }, 'failureRateThreshold'],
    [{ failureRateThreshold: '0.5' }, 'failureRateThreshold'],
    [{ minimumCalls: 0 }, 'minimumCalls'],
    [{ minimumCalls: 2.5 }, 'minimumCalls'],
    [{ windowMs: 0 }, 'windowMs'],
    [{ windowMs: 5, windowBuckets: 10 }, 'windowMs'],
    [{ windowBuckets: 0 }, 'windowBuckets'],
    [{ windowBuckets: 101 }, 'windowBuckets'],
    [{ flushLagMs: -1 }, 'flushLagMs'],
    [{ flushLagMs: 1.5 }, 'flushLagMs'],
    [{ flushLagMs: 4_501 }, 'flushLagMs'], // 2 x 4501 > windowMs - bucketMs: nothing would ever be judged
    [{ windowBuckets: 1, flushLagMs: 1 }, 'flushLagMs'],
  ])('%p is refused, naming %s', (override, option) => {
    const construct = () => new FailureRatePolicy({ ...base, ...(override as Partial<FailureRatePolicyOptions>) });
    expect(construct).toThrow(BreakerConfigError);
    expect(construct).toThrow(`invalid circuit breaker option '${option}'`);
  });

  test('defaults: 10 buckets, no flush lag; bucket width floor(windowMs / windowBuckets)', () => {
    const policy = new FailureRatePolicy({ failureRateThreshold: 1, minimumCalls: 1, windowMs: 60_001 });
    expect([policy.windowBuckets, policy.flushLagMs, policy.bucketMs]).toEqual([10, 0, 6_000]);
  });
});

describe('verdictOf', () => {
  test('a count policy gives its failures and reason failureThreshold, without calls', () => {
    const count = new FailureCountPolicy(3, 10_000, 10);
    expect(verdictOf(count, buckets([T, 50, 3]), T + 1)).toEqual({ open: true, reason: 'failureThreshold', failures: 3 });
    expect(verdictOf(count, buckets([T, 0, 2]), T + 1)).toEqual({ open: false, reason: 'failureThreshold', failures: 2 });
  });

  test('a rate policy gives its own verdict', () => {
    const rate = new FailureRatePolicy(base);
    expect(verdictOf(rate, buckets([T, 5, 5]), T + 1)).toEqual({ open: true, reason: 'failureRate', failures: 5, calls: 10 });
  });
});
