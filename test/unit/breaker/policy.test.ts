import { openDuration } from '../../../src/breaker/backoff';

/** The open period without jitter (random 0). */
const baseOpenDuration = (step: number, settings: Parameters<typeof openDuration>[1]) => openDuration(step, settings, () => 0);
import { FailureCountPolicy } from '../../../src/breaker/FailureCountPolicy';

describe('FailureCountPolicy', () => {
  const policy = new FailureCountPolicy(3, 10_000, 10);

  test('failures go to the bucket of their time; successes are not stored', () => {
    expect(policy.counterFor('failure', 12_345)).toBe('f_12000');
    expect(policy.counterFor('failure', 12_999)).toBe('f_12000');
    expect(policy.counterFor('failure', 13_000)).toBe('f_13000');
    expect(policy.counterFor('success', 12_345)).toBeUndefined();
  });

  test('a bucket counts while its start is later than now - windowMs (rolling, not fixed)', () => {
    const counters = { f_10000: 1, f_15000: 1, f_19000: 1 };
    expect(policy.failuresInWindow(counters, 19_999)).toBe(3);
    expect(policy.shouldOpen(counters, 19_999)).toBe(true);
    expect(policy.failuresInWindow(counters, 20_000)).toBe(2); // f_10000 left the window
    expect(policy.shouldOpen(counters, 20_000)).toBe(false);
    expect(policy.staleCounters(counters, 20_000)).toEqual(['f_10000']);
    expect(policy.failuresInWindow(counters, 29_000)).toBe(0);
  });

  test('ignores counters of other kinds', () => {
    expect(policy.failuresInWindow({ s_19000: 9, f_19000: 1 }, 19_500)).toBe(1);
    expect(policy.staleCounters({ s_1000: 9 }, 100_000)).toEqual([]);
  });
});

describe('backoff', () => {
  const settings = { openMs: 1_000, maxOpenMs: 10_000, backoffMultiplier: 3, jitterRatio: 0.25 };

  test('openMs, multiplied per step, capped at maxOpenMs', () => {
    expect([0, 1, 2, 3, 10].map((step) => baseOpenDuration(step, settings))).toEqual([1_000, 3_000, 9_000, 10_000, 10_000]);
  });

  test('jitter stays within (base * (1 - jitterRatio), base] and never exceeds the cap', () => {
    for (const step of [0, 1, 2, 5]) {
      const base = baseOpenDuration(step, settings);
      for (const r of [0, 0.1, 0.5, 0.9, 0.999999]) {
        const d = openDuration(step, settings, () => r);
        expect(d).toBeLessThanOrEqual(Math.min(base, settings.maxOpenMs));
        expect(d).toBeGreaterThanOrEqual(Math.floor(base * 0.75));
      }
    }
    expect(openDuration(0, settings, () => 0.5)).toBe(875);
  });
});
