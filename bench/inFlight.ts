/** How many things are in flight at once: live (enter/exit) and after the fact (from intervals). */

export class InFlightTracker {
  private inFlight = 0;
  private highWater = 0;

  /** Marks one thing as started; call the returned function once when it ends (a second call is ignored). */
  enter(): () => void {
    this.inFlight += 1;
    this.highWater = Math.max(this.highWater, this.inFlight);
    let exited = false;
    return () => {
      if (exited) return;
      exited = true;
      this.inFlight -= 1;
    };
  }

  get current(): number {
    return this.inFlight;
  }

  /** The most in flight at once since construction or the last reset. */
  get max(): number {
    return this.highWater;
  }

  /** Starts a new high-water mark from what is in flight now. */
  reset(): void {
    this.highWater = this.inFlight;
  }
}

export interface Interval {
  start: number;
  end: number;
}

/**
 * The most intervals that overlap at any instant. Intervals are half-open, [start, end): one that ends at t
 * does not overlap one that starts at t.
 */
export function maxOverlap(intervals: readonly Interval[]): number {
  const edges: Array<[time: number, delta: number]> = [];
  for (const { start, end } of intervals) {
    if (!(end >= start)) throw new Error(`interval ends (${end}) before it starts (${start})`);
    if (end === start) continue;
    edges.push([start, 1], [end, -1]);
  }
  // At equal times, ends come before starts (half-open intervals).
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let max = 0;
  for (const [, delta] of edges) {
    current += delta;
    max = Math.max(max, current);
  }
  return max;
}
