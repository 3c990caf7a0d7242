import { BreakerConfigError } from './errors';
import { COUNTER_NAME, type CountedOutcome } from './OpeningPolicy';
import type { OpeningVerdict, WindowedOpeningPolicy, WindowTotals } from './WindowedOpeningPolicy';

/** Stale counters named per write (the store's MAX_REMOVALS_PER_WRITE): keeps an update expression far below 4 KB. */
const MAX_STALE_PER_WRITE = 20;
/** Two counters per bucket live in the state item; more buckets would make every write cost several write units. */
const MAX_BUCKETS = 100;
const MAX_MS = 24 * 60 * 60 * 1000;

export interface FailureRatePolicyOptions {
  /** Failures / calls at or above which the circuit opens: a fraction in (0, 1], e.g. 0.5 for 50 %. */
  failureRateThreshold: number;
  /** Calls (all instances together) the judged span must hold before a rate is judged at all. Integer >= 1. */
  minimumCalls: number;
  /** The rolling window, ms. Integer from windowBuckets to 24 h. */
  windowMs: number;
  /** Buckets the window rolls in. Integer from 1 to 100. @default 10 */
  windowBuckets?: number;
  /**
   * The longest a busy instance holds a success before it reaches the item, ms (the breaker passes
   * countFlushMs + stateCacheMs). Failures are written at once, successes later, so the newest flushLagMs of the
   * item can show every failure and few of the successes. The judged span therefore reaches back at least
   * 2 x flushLagMs: at steady traffic at least half of its successes are in the item, so background errors at a
   * rate e show as at most 2e / (1 + e), never a false open while that is below failureRateThreshold.
   * 0 = no such floor (every outcome is written at once). Integer from 0 to (windowMs - bucketMs) / 2.
   * @default 0
   */
  flushLagMs?: number;
}

/**
 * Opens on a failure rate over a minimum number of calls (Resilience4j `failureRateThreshold` and
 * `minimumNumberOfCalls`, Polly `FailureRatio` and `MinimumThroughput`), counted fleet-wide in the state item.
 *
 * Counters: an outcome at time t goes to `f_<start>` (failure) or `s_<start>` (success), where start is the start
 * of the bucket of width floor(windowMs / windowBuckets) holding t, the same names `FailureCountPolicy` uses for
 * failures. A bucket is live while its start is later than now - windowMs.
 *
 * **Judged span.** The rate is judged over the most recent live buckets that together hold at least `minimumCalls`
 * calls and reach back at least 2 x `flushLagMs` (newest first, whole buckets); when even the whole live window does
 * not, nothing opens. So a busy circuit judges its last few buckets and a quiet one its whole window, and a total
 * outage after a long healthy period is not outvoted by the healthy minutes before it: it opens at the latest once
 * the buckets that started after the outage hold `minimumCalls` calls and reach back 2 x `flushLagMs`, i.e. within
 * bucketMs + max(2 x flushLagMs, minimumCalls / callRate) of its start (docs/breaker.md, "Failure-rate policy").
 *
 * The rate is compared as failures / calls >= failureRateThreshold: both sides are correctly rounded doubles, so a
 * rate exactly at the threshold (3 of 10 against 0.3) opens.
 *
 * @example
 * const policy = new FailureRatePolicy({ failureRateThreshold: 0.5, minimumCalls: 20, windowMs: 60_000, flushLagMs: 21_000 }); // countFlushMs 20 s + stateCacheMs 1 s
 * @throws BreakerConfigError naming the option when an option is out of range.
 */
export class FailureRatePolicy implements WindowedOpeningPolicy {
  readonly failureRateThreshold: number;
  readonly minimumCalls: number;
  readonly windowMs: number;
  readonly windowBuckets: number;
  readonly flushLagMs: number;
  /** Bucket width, ms: floor(windowMs / windowBuckets). */
  readonly bucketMs: number;

  constructor(options: FailureRatePolicyOptions) {
    if (typeof options !== 'object' || options === null) throw new BreakerConfigError('options', 'must be an object');
    const { failureRateThreshold, minimumCalls, windowMs, windowBuckets = 10, flushLagMs = 0 } = options;
    if (typeof failureRateThreshold !== 'number' || !Number.isFinite(failureRateThreshold) || failureRateThreshold <= 0 || failureRateThreshold > 1) {
      throw new BreakerConfigError('failureRateThreshold', `must be a fraction greater than 0 and at most 1 (0.5 = 50 %), got ${JSON.stringify(failureRateThreshold)}`);
    }
    integer('minimumCalls', minimumCalls, 1, 1_000_000);
    integer('windowBuckets', windowBuckets, 1, MAX_BUCKETS);
    integer('windowMs', windowMs, 1, MAX_MS);
    if (windowMs < windowBuckets) throw new BreakerConfigError('windowMs', `must be at least windowBuckets (${windowBuckets}), got ${windowMs}`);
    const bucketMs = Math.floor(windowMs / windowBuckets);
    // Some live bucket must always start 2 x flushLagMs back, or nothing would ever be judged.
    integer('flushLagMs', flushLagMs, 0, Math.floor((windowMs - bucketMs) / 2));
    this.failureRateThreshold = failureRateThreshold;
    this.minimumCalls = minimumCalls;
    this.windowMs = windowMs;
    this.windowBuckets = windowBuckets;
    this.flushLagMs = flushLagMs;
    this.bucketMs = bucketMs;
  }

  /** Every outcome is stored (successes too: a rate needs both); exempt errors never reach a policy. */
  counterFor(outcome: CountedOutcome, now: number): string {
    return `${outcome === 'failure' ? 'f' : 's'}_${this.bucketStart(now)}`;
  }

  /**
   * Counters of either kind whose bucket ended more than one bucket before the window's start (the margin: an
   * instance whose clock is up to a bucket behind still counts a bucket this instance has just seen leave the
   * window). Oldest first, at most 20 (one write removes a bounded number; the rest go on later writes).
   */
  staleCounters(counters: Readonly<Record<string, number>>, now: number): string[] {
    const stale: Array<[number, string]> = [];
    for (const name of Object.keys(counters)) {
      const match = COUNTER_NAME.exec(name);
      if (!match) continue;
      const start = Number(match[1]);
      if (start <= now - this.windowMs - this.bucketMs) stale.push([start, name]);
    }
    return stale
      .sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1))
      .slice(0, MAX_STALE_PER_WRITE)
      .map(([, name]) => name);
  }

  shouldOpen(counters: Readonly<Record<string, number>>, now: number): boolean {
    return this.evaluate(counters, now).open;
  }

  failuresInWindow(counters: Readonly<Record<string, number>>, now: number): number {
    return this.windowTotals(counters, now).failures;
  }

  windowTotals(counters: Readonly<Record<string, number>>, now: number): WindowTotals {
    const totals = { calls: 0, failures: 0 };
    for (const bucket of this.liveBuckets(counters, now)) {
      totals.calls += bucket.successes + bucket.failures;
      totals.failures += bucket.failures;
    }
    return totals;
  }

  /**
   * The decision and the span it was judged on (see the class comment). When no span qualifies (fewer than
   * minimumCalls calls in the window, or counts that do not reach back 2 x flushLagMs yet, e.g. just after a close
   * while the fleet still holds its first successes) the circuit does not open; `failures` and `calls` are then the
   * whole window's.
   */
  evaluate(counters: Readonly<Record<string, number>>, now: number): OpeningVerdict {
    const reach = 2 * this.flushLagMs;
    let calls = 0;
    let failures = 0;
    for (const bucket of this.liveBuckets(counters, now)) {
      calls += bucket.successes + bucket.failures;
      failures += bucket.failures;
      // A bucket from an instance whose clock is ahead reaches back as far as the current one.
      if (calls >= this.minimumCalls && Math.min(bucket.start, now) <= now - reach) {
        return { open: failures / calls >= this.failureRateThreshold, reason: 'failureRate', failures, calls };
      }
    }
    return { open: false, reason: 'failureRate', failures, calls };
  }

  private bucketStart(now: number): number {
    return Math.floor(now / this.bucketMs) * this.bucketMs;
  }

  /** Live buckets, newest first (a bucket from an instance whose clock is ahead comes first). */
  private liveBuckets(counters: Readonly<Record<string, number>>, now: number): Array<{ start: number; successes: number; failures: number }> {
    const buckets = new Map<number, { start: number; successes: number; failures: number }>();
    for (const [name, count] of Object.entries(counters)) {
      const match = COUNTER_NAME.exec(name);
      // The item's parser admits only non-negative integers; a policy still ignores anything else.
      if (!match || typeof count !== 'number' || !Number.isSafeInteger(count) || count <= 0) continue;
      const start = Number(match[1]);
      if (start <= now - this.windowMs) continue;
      let bucket = buckets.get(start);
      if (!bucket) buckets.set(start, (bucket = { start, successes: 0, failures: 0 }));
      if (name.startsWith('f_')) bucket.failures += count;
      else bucket.successes += count;
    }
    return [...buckets.values()].sort((a, b) => b.start - a.start);
  }
}

function integer(option: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new BreakerConfigError(option, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
}
