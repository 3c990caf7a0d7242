import { COUNTER_NAME, type CountedOutcome, type OpeningPolicy } from './OpeningPolicy';

/**
 * Opens when `failureThreshold` failures fell within the last `windowMs` (all instances together).
 *
 * The window rolls in `buckets` steps: a failure goes to the counter `f_<start>` of the bucket of width
 * windowMs / buckets that holds its time, and a bucket counts while its start is later than now - windowMs.
 * So a failure counts for between windowMs - bucketWidth and windowMs: a rolling window, not one that resets at
 * fixed boundaries, built only from atomic ADDs (no read-modify-write of a list of timestamps).
 * Successes are not stored, so healthy calls write nothing.
 */
export class FailureCountPolicy implements OpeningPolicy {
  readonly bucketMs: number;

  /** The arguments are the breaker's validated options (see options.ts, which checks them once, naming each). */
  constructor(
    readonly failureThreshold: number,
    readonly windowMs: number,
    readonly buckets = 10,
  ) {
    this.bucketMs = Math.max(1, Math.floor(windowMs / Math.max(1, buckets)));
  }

  counterFor(outcome: CountedOutcome, now: number): string | undefined {
    if (outcome !== 'failure') return undefined;
    return `f_${now - (now % this.bucketMs)}`;
  }

  staleCounters(counters: Readonly<Record<string, number>>, now: number): string[] {
    return this.failureBuckets(counters)
      .filter(([start]) => !this.inWindow(start, now))
      .map(([, , name]) => name);
  }

  shouldOpen(counters: Readonly<Record<string, number>>, now: number): boolean {
    return this.failuresInWindow(counters, now) >= this.failureThreshold;
  }

  failuresInWindow(counters: Readonly<Record<string, number>>, now: number): number {
    let sum = 0;
    for (const [start, count] of this.failureBuckets(counters)) if (this.inWindow(start, now)) sum += count;
    return sum;
  }

  private inWindow(bucketStart: number, now: number): boolean {
    return bucketStart > now - this.windowMs;
  }

  private failureBuckets(counters: Readonly<Record<string, number>>): Array<[start: number, count: number, name: string]> {
    const out: Array<[number, number, string]> = [];
    for (const [name, count] of Object.entries(counters)) {
      const match = COUNTER_NAME.exec(name);
      if (match && name.startsWith('f_')) out.push([Number(match[1]), count, name]);
    }
    return out;
  }
}
