/**
 * A model of a fleet using FailureRatePolicy and OutcomeAccumulator the way the executor will (pure, injected time):
 * each instance holds its successes, flushes them when due at a cache refresh, and writes every failure at once
 * together with what it holds; the instance whose failure write returns an item the policy judges open opens it.
 * Instances start together, so their flushes fall in lockstep: the worst case for successes missing from the item.
 */
import { FailureRatePolicy } from '../../../src/breaker/FailureRatePolicy';
import { OutcomeAccumulator } from '../../../src/breaker/OutcomeAccumulator';

interface Scenario {
  instances: number;
  /** Each instance makes a call every callGapMs. */
  callGapMs: number;
  countFlushMs: number;
  stateCacheMs: number;
  /** Whether the flush lag floor is applied (false: flushLagMs 0, as if successes were written at once). */
  flushLagFloor: boolean;
  /** Chance a call fails before outageAt; every call fails from outageAt on. */
  backgroundErrorRate: number;
  outageAt: number;
  until: number;
}

const policyOptions = { failureRateThreshold: 0.5, minimumCalls: 20, windowMs: 60_000, windowBuckets: 10 };

function run(s: Scenario): { openedAt?: number; failedCallsAfterOutage: number; writes: number; calls: number } {
  const policy = new FailureRatePolicy({ ...policyOptions, flushLagMs: s.flushLagFloor ? s.countFlushMs + s.stateCacheMs : 0 });
  const item: Record<string, number> = {};
  let writes = 0;
  const write = (increments: Readonly<Record<string, number>>, now: number) => {
    writes++;
    for (const name of policy.staleCounters(item, now).filter((n) => !(n in increments))) delete item[name];
    for (const [name, n] of Object.entries(increments)) item[name] = (item[name] ?? 0) + n;
  };
  const fleet = Array.from({ length: s.instances }, () => ({ pending: new OutcomeAccumulator({ countFlushMs: s.countFlushMs }), refreshedAt: -Infinity }));
  let seed = 7;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  let failedCallsAfterOutage = 0;
  let calls = 0;
  for (let now = 0; now < s.until; now += s.callGapMs) {
    for (const instance of fleet) {
      if (now - instance.refreshedAt >= s.stateCacheMs) {
        instance.refreshedAt = now;
        // The refresh becomes the flush (an UpdateItem returning the item) only when one is due; else it is a read.
        if (instance.pending.isFlushDue(now)) {
          const flush = instance.pending.take(now, (held, t) => policy.staleCounters(held, t));
          if (flush) {
            write(flush.increments, now);
            instance.pending.settle(flush, 'applied');
          }
        }
      }
      calls++;
      const failed = now >= s.outageAt || random() < s.backgroundErrorRate;
      if (now >= s.outageAt) failedCallsAfterOutage++;
      instance.pending.add(policy.counterFor(failed ? 'failure' : 'success', now), now);
      if (!failed) continue;
      const flush = instance.pending.take(now, (held, t) => policy.staleCounters(held, t))!;
      write(flush.increments, now);
      instance.pending.settle(flush, 'applied');
      if (policy.shouldOpen(item, now)) return { openedAt: now, failedCallsAfterOutage, writes, calls };
    }
  }
  return { failedCallsAfterOutage, writes, calls };
}

// 40 instances x 10 calls/s = 400 calls/s; successes flushed every 5 s at the earliest; caches of 1 s.
const fleet = { instances: 40, callGapMs: 100, countFlushMs: 5_000, stateCacheMs: 1_000 };

describe('the rate policy in a fleet of accumulating instances', () => {
  test('20 % background errors for 10 minutes from an empty item (as after a close), flushes in lockstep: never opens (threshold 50 %)', () => {
    const result = run({ ...fleet, flushLagFloor: true, backgroundErrorRate: 0.2, outageAt: Infinity, until: 600_000 });
    expect(result.openedAt).toBeUndefined();
    expect(result.calls).toBe(240_000);
    // The healthy path stays cheap: writes are failures plus at most one own flush per instance per 5 s.
    expect(result.writes).toBeLessThanOrEqual(0.2 * 240_000 * 1.05 + (40 * 600_000) / 5_000);
  });

  test('why the flush lag floor exists: without it, successes still held make the same traffic look failing', () => {
    const result = run({ ...fleet, flushLagFloor: false, backgroundErrorRate: 0.2, outageAt: Infinity, until: 600_000 });
    expect(result.openedAt).toBeDefined();
  });

  test.each([
    // [background error rate before the outage, outage starts at]
    [0, 300_000],
    [0.01, 300_000],
    [0.2, 300_000],
    [0.01, 303_300], // mid-bucket
    [0.01, 305_900], // late in a bucket
  ])('background %p, then every call fails from %d ms: opens within bucketMs + 2 x flushLagMs', (backgroundErrorRate, outageAt) => {
    const result = run({ ...fleet, flushLagFloor: true, backgroundErrorRate, outageAt, until: 400_000 });
    const bucketMs = 6_000;
    const flushLagMs = fleet.countFlushMs + fleet.stateCacheMs;
    const callsPerMs = fleet.instances / fleet.callGapMs;
    const bound = bucketMs + Math.max(2 * flushLagMs, policyOptions.minimumCalls / callsPerMs);
    expect(result.openedAt).toBeGreaterThanOrEqual(outageAt);
    expect(result.openedAt! - outageAt).toBeLessThanOrEqual(bound);
    // As calls: no more than the fleet makes in that bound.
    expect(result.failedCallsAfterOutage).toBeLessThanOrEqual(Math.ceil(bound * callsPerMs) + fleet.instances);
  });
});
