/**
 * When a throttled write is sent again: exponential backoff with jitter ("equal jitter": half the step fixed, half
 * random), so the instances of a fleet that were throttled together do not retry together. Pure: (attempt, random).
 *
 *   delay(n) = s/2 + random * s/2, where s = min(maxDelayMs, baseDelayMs * 2^n)
 *
 * With the defaults (100 ms, cap 5 s) the retries of one write land in [50, 100), [100, 200), [200, 400), ... ms; a
 * fleet of N instances throttled at once spreads its retries over each step, and each step halves the rate at which
 * the fleet comes back.
 */
import { unitInterval } from './backoff';

export interface ThrottleBackoffSettings {
  /** The first retry's step, ms. */
  baseDelayMs: number;
  /** The largest step, ms. */
  maxDelayMs: number;
}

export const THROTTLE_BACKOFF: ThrottleBackoffSettings = { baseDelayMs: 100, maxDelayMs: 5_000 };

/** Retries of one throttled write before its counts are given up (reported). With the defaults: about 20 s in all. */
export const MAX_THROTTLED_RETRIES = 8;

/** The delay before retry number `attempt` (0 = the first retry), ms; always in [step/2, step]. */
export function throttleRetryDelay(attempt: number, random: () => number, settings: ThrottleBackoffSettings = THROTTLE_BACKOFF): number {
  const n = Math.max(0, Math.min(Math.floor(attempt), 30));
  const step = Math.min(settings.maxDelayMs, settings.baseDelayMs * Math.pow(2, n));
  return Math.max(1, Math.round(step / 2 + (unitInterval(random) * step) / 2));
}

/**
 * Backoff for the requests a call makes before it is admitted (refreshes, probes, permits): after one is throttled,
 * none is sent until the gate opens again (throttleRetryDelay of the throttles in a row), and calls are decided on
 * the state last learned meanwhile. Without it every call of a throttled instance would ask again at once, and a
 * fleet would keep the item throttled by asking.
 */
export class ThrottleGate {
  private until = Number.NEGATIVE_INFINITY;
  private inARow = 0;

  constructor(private readonly random: () => number) {}

  /** Whether requests may be sent at `now`. */
  open(now: number): boolean {
    return now >= this.until;
  }

  /** A request was throttled at `now`: close the gate for the next backoff step. */
  throttled(now: number): void {
    this.until = now + throttleRetryDelay(this.inARow++, this.random);
  }

  /** A request got an answer: the next throttle starts from the first step again. */
  answered(): void {
    this.inARow = 0;
    this.until = Number.NEGATIVE_INFINITY;
  }
}
