import { InFlightTracker, maxOverlap } from '../../../bench/inFlight';

describe('InFlightTracker', () => {
  it('tracks the current count and the high-water mark', () => {
    const tracker = new InFlightTracker();
    const exitA = tracker.enter();
    const exitB = tracker.enter();
    const exitC = tracker.enter();
    expect(tracker.current).toBe(3);
    exitB();
    exitA();
    expect(tracker.current).toBe(1);
    expect(tracker.max).toBe(3);
    exitC();
    expect(tracker.current).toBe(0);
  });

  it('ignores a second exit of the same entry', () => {
    const tracker = new InFlightTracker();
    const exit = tracker.enter();
    tracker.enter();
    exit();
    exit();
    expect(tracker.current).toBe(1);
  });

  it('reset starts a new high-water mark from what is in flight now', () => {
    const tracker = new InFlightTracker();
    const exits = [tracker.enter(), tracker.enter(), tracker.enter()];
    exits[0]();
    exits[1]();
    tracker.reset();
    expect(tracker.max).toBe(1);
    tracker.enter();
    expect(tracker.max).toBe(2);
  });

  it('counts real concurrent async work', async () => {
    const tracker = new InFlightTracker();
    const releases: Array<() => void> = [];
    const work = Array.from({ length: 5 }, async () => {
      const exit = tracker.enter();
      await new Promise<void>((resolve) => releases.push(resolve));
      exit();
    });
    expect(tracker.current).toBe(5);
    releases.forEach((release) => release());
    await Promise.all(work);
    expect(tracker.current).toBe(0);
    expect(tracker.max).toBe(5);
  });
});

describe('maxOverlap', () => {
  it('is 0 for no intervals and 1 for disjoint ones', () => {
    expect(maxOverlap([])).toBe(0);
    expect(maxOverlap([{ start: 0, end: 1 }, { start: 2, end: 3 }])).toBe(1);
  });

  it('treats intervals as half-open: one ending at t does not overlap one starting at t', () => {
    expect(maxOverlap([{ start: 0, end: 10 }, { start: 10, end: 20 }])).toBe(1);
    expect(maxOverlap([{ start: 10, end: 20 }, { start: 0, end: 10.001 }])).toBe(2);
  });

  it('finds the densest instant, in any input order', () => {
    const intervals = [
      { start: 5, end: 9 },
      { start: 0, end: 10 },
      { start: 1, end: 3 },
      { start: 2, end: 6 },
      { start: 8, end: 12 },
    ];
    // At 2..3: [0,10), [1,3), [2,6) -> 3; at 5..6: [0,10), [2,6), [5,9) -> 3; at 8..9: [0,10), [5,9), [8,12) -> 3
    expect(maxOverlap(intervals)).toBe(3);
    expect(maxOverlap([...intervals, { start: 5.5, end: 5.6 }])).toBe(4);
  });

  it('ignores empty intervals and rejects reversed ones', () => {
    expect(maxOverlap([{ start: 3, end: 3 }])).toBe(0);
    expect(() => maxOverlap([{ start: 3, end: 2 }])).toThrow('before it starts');
  });
});
