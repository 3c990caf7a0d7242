/**
 * A token bucket: `ratePerSecond` units refill continuously up to `burstSeconds` of rate (DynamoDB's per-partition
 * limit keeps about one second of unused capacity as burst). A request takes its units only if all of them are there.
 */
export interface TokenBucketOptions {
  /** Units added per second (> 0). */
  ratePerSecond: number;
  /**
   * Seconds of rate the bucket holds when full. Default 1. The capacity is never below one unit, so a limit
   * scaled below 1 unit/s (a tiny smoke fleet) still admits a 1-unit request once the bucket has refilled.
   */
  burstSeconds?: number;
  /** Clock in ms (any monotonic origin). Default performance.now. */
  now?: () => number;
}

export class TokenBucket {
  readonly ratePerSecond: number;
  readonly capacity: number;
  private readonly now: () => number;
  private tokens: number;
  private updatedAt: number;

  constructor(options: TokenBucketOptions) {
    const { ratePerSecond, burstSeconds = 1 } = options;
    if (!(Number.isFinite(ratePerSecond) && ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be a positive number, got ${ratePerSecond}`);
    if (!(Number.isFinite(burstSeconds) && burstSeconds > 0)) throw new RangeError(`burstSeconds must be a positive number, got ${burstSeconds}`);
    this.ratePerSecond = ratePerSecond;
    this.capacity = Math.max(1, ratePerSecond * burstSeconds);
    this.now = options.now ?? (() => performance.now());
    // Starts full, as an idle partition does.
    this.tokens = this.capacity;
    this.updatedAt = this.now();
  }

  /** Units available now. */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Takes `units` and returns true if they are all available; otherwise takes nothing and returns false. */
  tryTake(units: number): boolean {
    if (!(Number.isFinite(units) && units > 0)) throw new RangeError(`units must be a positive number, got ${units}`);
    this.refill();
    // A small epsilon: 0.5 + 0.5 refilled in floating point must make a whole unit.
    if (this.tokens + 1e-9 < units) return false;
    this.tokens = Math.max(0, this.tokens - units);
    return true;
  }

  private refill(): void {
    const now = this.now();
    const elapsedMs = Math.max(0, now - this.updatedAt);
    this.updatedAt = now;
    this.tokens = Math.min(this.capacity, this.tokens + (elapsedMs / 1000) * this.ratePerSecond);
  }
}
