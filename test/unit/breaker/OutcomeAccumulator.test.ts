import { BreakerConfigError } from '../../../src/breaker/errors';
import { FailureRatePolicy } from '../../../src/breaker/FailureRatePolicy';
import { OutcomeAccumulator, type FlushResult } from '../../../src/breaker/OutcomeAccumulator';

const T = 1_000_000;

describe('OutcomeAccumulator', () => {
  test('counts per counter name and hands everything out in one flush', () => {
    const acc = new OutcomeAccumulator({ countFlushMs: 10_000 });
    acc.add('s_1000', T);
    acc.add('s_1000', T + 1);
    acc.add('s_2000', T + 2, 3);
    acc.add('f_2000', T + 3);
    expect(acc.pending()).toEqual({ s_1000: 2, s_2000: 3, f_2000: 1 });
    expect(acc.pendingCount).toBe(6);
    const flush = acc.take(T + 4);
    expect(flush?.increments).toEqual({ s_1000: 2, s_2000: 3, f_2000: 1 });
    expect(acc.pendingCount).toBe(0);
    expect(acc.take(T + 5)).toBeUndefined();
  });

  test.each([
    // [first outcome at, asked at, due]
    [T, T, false],
    [T, T + 9_999, false],
    [T, T + 10_000, true],
    [T, T + 60_000, true],
    [T, T - 10_000, true], // the clock jumped back: counts are not held for ever
    [T, T - 9_999, false],
  ])('an outcome at %d, asked at %d: due %p', (at, now, due) => {
    const acc = new OutcomeAccumulator({ countFlushMs: 10_000 });
    expect(acc.isFlushDue(now)).toBe(false); // nothing held: never due
    acc.add('s_0', at);
    expect(acc.isFlushDue(now)).toBe(due);
  });

  test('due is decided by the oldest outcome held, so own flushes are at least countFlushMs apart', () => {
    const acc = new OutcomeAccumulator({ countFlushMs: 1_000 });
    const flushes: number[] = [];
    // One outcome every 100 ms for 5 s; flush whenever due.
    for (let now = T; now < T + 5_000; now += 100) {
      acc.add(`s_${now - (now % 1_000)}`, now);
      if (acc.isFlushDue(now)) {
        acc.settle(acc.take(now)!, 'applied');
        flushes.push(now);
      }
    }
    expect(flushes.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < flushes.length; i++) expect(flushes[i] - flushes[i - 1]).toBeGreaterThanOrEqual(1_000);
    expect(acc.stats().applied + acc.pendingCount).toBe(50);
  });

  test('countFlushMs 0: due as soon as anything is held', () => {
    const acc = new OutcomeAccumulator({ countFlushMs: 0 });
    expect(acc.isFlushDue(T)).toBe(false);
    acc.add('s_0', T);
    expect(acc.isFlushDue(T)).toBe(true);
  });

  describe('settling a flush: nothing lost, nothing counted twice', () => {
    test.each([
      // [result, held afterwards, stats delta]
      ['applied', {}, { applied: 3, restored: 0, uncertain: 0, discarded: 0 }],
      ['notApplied', { s_1000: 2, f_1000: 1 }, { applied: 0, restored: 3, uncertain: 0, discarded: 0 }],
      ['uncertain', {}, { applied: 0, restored: 0, uncertain: 3, discarded: 0 }],
      ['periodEnded', {}, { applied: 0, restored: 0, uncertain: 0, discarded: 3 }],
    ] as Array<[FlushResult, Record<string, number>, object]>)('%s', (result, held, stats) => {
      const acc = new OutcomeAccumulator({ countFlushMs: 10_000 });
      acc.add('s_1000', T, 2);
      acc.add('f_1000', T + 5);
      const flush = acc.take(T + 10)!;
      acc.settle(flush, result);
      expect(acc.pending()).toEqual(held);
      expect(acc.stats()).toEqual({ added: 3, ...stats });
    });

    test('a flush that wrote nothing is merged with what came in meanwhile, keeping the oldest time (still due)', () => {
      const acc = new OutcomeAccumulator({ countFlushMs: 10_000 });
      acc.add('s_1000', T);
      const flush = acc.take(T + 10_000)!;
      acc.add('s_1000', T + 10_001); // a call completes while the flush is in flight
      acc.add('s_2000', T + 10_002);
      acc.settle(flush, 'notApplied');
      expect(acc.pending()).toEqual({ s_1000: 2, s_2000: 1 });
      expect(acc.oldest()).toBe(T);
      expect(acc.isFlushDue(T + 10_003)).toBe(true);
    });

    test('two flushes in flight at once carry disjoint counts', () => {
      const acc = new OutcomeAccumulator({ countFlushMs: 0 });
      acc.add('s_1000', T, 4);
      const first = acc.take(T)!;
      acc.add('s_1000', T + 1, 2);
      const second = acc.take(T + 1)!;
      expect([first.increments, second.increments]).toEqual([{ s_1000: 4 }, { s_1000: 2 }]);
      acc.settle(second, 'applied');
      acc.settle(first, 'notApplied');
      const third = acc.take(T + 2)!;
      expect(third.increments).toEqual({ s_1000: 4 });
      acc.settle(third, 'applied');
      expect(acc.stats()).toMatchObject({ added: 6, applied: 6, restored: 4 });
    });

    test('sum over a random run: every outcome added is applied, dropped as uncertain, discarded, or still held', () => {
      const acc = new OutcomeAccumulator({ countFlushMs: 500 });
      let seed = 42;
      const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
      const results: FlushResult[] = ['applied', 'notApplied', 'uncertain', 'periodEnded'];
      for (let now = T; now < T + 20_000; now += 37) {
        acc.add(random() < 0.1 ? `f_${now - (now % 1_000)}` : `s_${now - (now % 1_000)}`, now, 1 + Math.floor(random() * 3));
        if (acc.isFlushDue(now)) acc.settle(acc.take(now)!, results[Math.floor(random() * 4)]);
      }
      const s = acc.stats();
      expect(s.applied + s.uncertain + s.discarded + acc.pendingCount).toBe(s.added);
      expect(s.restored).toBeGreaterThan(0);
    });
  });

  test('take drops counters the policy calls stale instead of sending them', () => {
    const policy = new FailureRatePolicy({ failureRateThreshold: 0.5, minimumCalls: 5, windowMs: 10_000, windowBuckets: 10 });
    const acc = new OutcomeAccumulator({ countFlushMs: 0 });
    acc.add('s_0', 500); // long out of the window at T
    acc.add(policy.counterFor('success', T), T);
    const flush = acc.take(T, (held, now) => policy.staleCounters(held, now));
    expect(flush?.increments).toEqual({ [`s_${T}`]: 1 });
    expect(acc.stats().discarded).toBe(1);
    // Only stale counts: nothing to send.
    acc.add('s_0', 500);
    expect(acc.take(T, (held, now) => policy.staleCounters(held, now))).toBeUndefined();
  });

  test('discardBefore drops counters holding outcomes from before a close; clear drops everything', () => {
    const acc = new OutcomeAccumulator({ countFlushMs: 0 });
    acc.add('s_1000', T - 10);
    acc.add('s_1000', T + 10); // mixed: dropped whole
    acc.add('s_2000', T + 20);
    acc.add('f_2000', T);
    expect(acc.discardBefore(T)).toBe(2);
    expect(acc.pending()).toEqual({ s_2000: 1, f_2000: 1 });
    expect(acc.clear()).toBe(2);
    expect(acc.pending()).toEqual({});
    expect(acc.stats()).toMatchObject({ added: 4, discarded: 4 });
  });

  test.each([
    ['f_', 1],
    ['x_100', 1],
    ['s_1.5', 1],
    ['s_100', 0],
    ['s_100', 1.5],
    ['s_100', -1],
  ])('add(%p, n=%p) is refused', (counter, n) => {
    const acc = new OutcomeAccumulator({ countFlushMs: 0 });
    expect(() => acc.add(counter, T, n)).toThrow(TypeError);
    expect(acc.pendingCount).toBe(0);
  });

  test.each([-1, 1.5, Number.NaN, '1000', undefined, 86_400_001])('countFlushMs %p is refused', (countFlushMs) => {
    const construct = () => new OutcomeAccumulator({ countFlushMs: countFlushMs as number });
    expect(construct).toThrow(BreakerConfigError);
    expect(construct).toThrow("invalid circuit breaker option 'countFlushMs'");
  });
});
