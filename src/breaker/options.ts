/** The breaker's options: defaults and validation in one place. A bad option fails construction, naming the option. */
import { BreakerConfigError } from './errors';
import { FailureCountPolicy } from './FailureCountPolicy';
import { FailureRatePolicy } from './FailureRatePolicy';
import type { OpeningPolicy } from './OpeningPolicy';
import { validateRampUp } from './rampUp';
import type { StateStore } from './store/StateStore';

/**
 * Options of a CircuitBreaker. Every option is validated at construction: a bad value throws a BreakerConfigError
 * naming the option. Times are milliseconds.
 */
export interface CircuitBreakerOptions {
  /**
   * The circuit's name: the state item's key. Instances with the same name and store share one breaker.
   * Constraints: a non-empty string of at most 1,024 bytes in UTF-8 (DynamoDB keys are at most 2,048 bytes).
   */
  name: string;
  /** Where the shared state lives: a DynamoDBStateStore, or a MemoryStateStore for one process. */
  store: StateStore;
  /** Failures (all instances together) within `windowMs` that open a closed circuit. Integer 1-1,000,000. @default 5 */
  failureThreshold?: number;
  /** The rolling window failures are counted in, ms. Integer 1 ms-24 h, at least windowBuckets. @default 60000 */
  windowMs?: number;
  /** Buckets the window rolls in (its granularity). Integer 1-100 (each is an item attribute every clearing write removes). @default 10 */
  windowBuckets?: number;
  /** A call still running after this is aborted, fails with CallTimeoutError and counts as a failure, ms. Integer 1 ms-24 h. @default 3000 */
  timeoutMs?: number;
  /**
   * A call that succeeds but took longer than this returns its result and counts as a failure, ms. At most timeoutMs.
   * @default the smaller of 2000 and timeoutMs
   */
  slowCallMs?: number;
  /** The first open period, ms. Integer 1 ms-24 h. @default the smaller of 10000 and maxOpenMs */
  openMs?: number;
  /** The longest open period backoff may reach, ms; also bounds any open period read from the item. At least openMs. @default the larger of 300000 and openMs */
  maxOpenMs?: number;
  /** Each reopen straight from half-open multiplies the open period by this. Number 1-100. @default 2 */
  backoffMultiplier?: number;
  /** Open periods are shortened by a random fraction up to this, so a fleet does not probe in lockstep. Number 0-0.99. @default 0.2 */
  jitterRatio?: number;
  /** Trial calls in flight at once, across all instances, while half-open. Integer 1-50. @default 2 */
  halfOpenMaxCalls?: number;
  /** Successful trials that close the circuit (may exceed halfOpenMaxCalls: trials run one after another). Integer 1-1000. @default 2 */
  halfOpenSuccessThreshold?: number;
  /**
   * A trial permit's lease is timeoutMs plus this, ms, to cover the writes after the call and the clock skew between
   * instances: two trials can overlap in one slot only if clocks differ by more than this. Also the skew allowed when
   * bounding times read from the item. Integer 0 ms-24 h. @default 1000
   */
  permitLeaseMarginMs?: number;
  /**
   * How long an instance trusts the half-open/forced-open/disabled state it last read, ms (0 = always read); each
   * refresh comes a random fraction up to jitterRatio earlier, so a fleet does not read in lockstep. Refreshes are
   * eventually consistent reads (half the read units of a consistent one). Integer 0 ms-24 h. @default 1000
   */
  stateCacheMs?: number;
  /**
   * How long an instance trusts a CLOSED state it last read, ms (jittered like stateCacheMs). A closed instance learns
   * of an opening from its own first failure write anyway (the refused count returns the open item), so a long closed
   * cache costs at most one call per instance when the circuit opens; what it delays is an operator's forceOpen() or
   * disable() reaching this instance (by up to this long). Integer, stateCacheMs to 24 h.
   * @default 5 × stateCacheMs (5000)
   */
  closedStateCacheMs?: number;
  /** Budget of one store request attempt, ms. Integer 1-60000. @default 250 */
  storeTimeoutMs?: number;
  /** Attempts per store request (a timed-out failure count is never retried: it may have been applied). Integer 1-10. @default 2 */
  storeMaxAttempts?: number;
  /**
   * What a call does when the store cannot answer (it timed out, refused or is unreachable; a throttled store is not
   * "cannot answer": the instance keeps deciding on the state it last learned and retries its writes later).
   * - 'local': the instance runs the same policy on its own in-memory state (its own counts, open period with
   *   backoff, one trial at a time) until the store answers again (events `storeError` with `mode: 'local'` and
   *   `localMode`), so a dead downstream is still cut off per instance.
   * - 'allow': only the call whose store request failed is let through (each call asks the store).
   * - 'deny': that call is rejected (CircuitOpenError, state STORE_UNAVAILABLE).
   * @default 'local'
   */
  onStoreError?: 'allow' | 'deny' | 'local';
  /** Whether a thrown error counts as a failure (e.g. return false for a 404). A throwing isFailure counts the error. @default every error counts */
  isFailure?: (error: unknown) => boolean;
  /** The clock, epoch ms. A reading that is not a finite number rejects the call with a BreakerConfigError naming `now`. @default Date.now */
  now?: () => number;
  /** Random numbers in [0, 1) for jitter. A value out of range is clamped; NaN, a non-number or a throw means no jitter. @default Math.random */
  random?: () => number;
  /**
   * When a closed circuit opens. Not together with failureRateThreshold/minimumCalls.
   * @default a FailureRatePolicy when failureRateThreshold and minimumCalls are given, else a
   *   FailureCountPolicy(failureThreshold, windowMs, windowBuckets)
   */
  openingPolicy?: OpeningPolicy;
  /**
   * Open on a failure rate instead of a failure count: the circuit opens when the fleet's failures / calls over the
   * newest buckets holding at least `minimumCalls` calls reach this (a FailureRatePolicy; docs/breaker.md,
   * "Failure-rate policy"). A fraction in (0, 1], e.g. 0.5 for 50 %. Needs minimumCalls; not with failureThreshold
   * nor openingPolicy. @default none (the failure count policy)
   */
  failureRateThreshold?: number;
  /** Rate policy: calls (all instances) a judged span must hold before its rate counts. Integer 1-1,000,000. Needs failureRateThreshold. */
  minimumCalls?: number;
  /**
   * Rate policy: the longest an instance holds counted successes before they go with its next state refresh, ms
   * (failures are written at once and carry what is held). Each flush is a write to the state item, so a fleet of N
   * warm instances makes at most N x 1000 / countFlushMs flush writes per second. Counts held by an instance that is
   * frozen or killed before it flushes are lost. Integer 0 ms-24 h, and 2 x (countFlushMs + stateCacheMs) must be at
   * most windowMs - windowMs / windowBuckets. @default 20000 when that fits, else the largest value that does
   */
  countFlushMs?: number;
  /**
   * Gradual recovery: for this long after the circuit closes, a call is admitted with a probability growing from
   * rampUpStartFraction to 1 (fleet-wide: the close time is in the shared item). A call not admitted is rejected
   * with CircuitOpenError, state RAMPING_UP. Integer 0 ms (no ramp-up)-24 h. @default 0
   */
  rampUpMs?: number;
  /** The fraction of calls admitted right after a close when rampUpMs > 0: a number in (0, 1]. @default 0.1 */
  rampUpStartFraction?: number;
  /**
   * How long after its last write the state item may be deleted by the table's TTL (the `expiresAt` attribute), ms;
   * 0 = never. An item written that long ago holds nothing live (no open period, lease or count in the window), so
   * deleting it is the same as keeping it. Items an operator forced open or disabled never expire. 0, or at least
   * 1 hour and maxOpenMs + windowMs + timeoutMs + permitLeaseMarginMs + closedStateCacheMs. @default 7 days
   */
  itemTtlMs?: number;
}

export type BreakerSettings = Required<Omit<CircuitBreakerOptions, 'openingPolicy' | 'failureRateThreshold' | 'minimumCalls'>> & {
  openingPolicy: OpeningPolicy;
  /** Whether successes are counted too (a policy that stores them, e.g. the rate policy): they are held and flushed. */
  countsSuccesses: boolean;
};

export const DEFAULTS = {
  failureThreshold: 5,
  windowMs: 60_000,
  windowBuckets: 10,
  timeoutMs: 3_000,
  slowCallMs: 2_000,
  openMs: 10_000,
  maxOpenMs: 300_000,
  backoffMultiplier: 2,
  jitterRatio: 0.2,
  halfOpenMaxCalls: 2,
  halfOpenSuccessThreshold: 2,
  permitLeaseMarginMs: 1_000,
  stateCacheMs: 1_000,
  closedStateCacheMs: 5_000,
  storeTimeoutMs: 250,
  storeMaxAttempts: 2,
  onStoreError: 'local',
  itemTtlMs: 7 * 24 * 60 * 60 * 1000,
  countFlushMs: 20_000,
  rampUpMs: 0,
  rampUpStartFraction: 0.1,
} as const;

const KNOWN = new Set<string>([...Object.keys(DEFAULTS), 'name', 'store', 'isFailure', 'now', 'random', 'openingPolicy', 'failureRateThreshold', 'minimumCalls']);

/** Upper bounds that catch unit mistakes (seconds for ms) and keep the item small. */
const MAX_MS = 24 * 60 * 60 * 1000;
const MAX_SLOTS = 50;
const MAX_STORE_TIMEOUT_MS = 60_000;
/** Each bucket is an attribute a clearing write removes: bounded so every write stays far below DynamoDB's 4 KB expressions. */
const MAX_WINDOW_BUCKETS = 100;
/** DynamoDB partition keys are at most 2,048 bytes; half of that leaves room for a store's own prefix. */
const MAX_NAME_BYTES = 1024;
/** TTL deletion runs up to days late and ignores seconds; below an hour the setting would be a misunderstanding. */
const MIN_ITEM_TTL_MS = 60 * 60 * 1000;

export function resolveOptions(options: CircuitBreakerOptions): BreakerSettings {
  if (typeof options !== 'object' || options === null) throw new BreakerConfigError('options', 'must be an object');
  for (const key of Object.keys(options)) if (!KNOWN.has(key)) throw new BreakerConfigError(key, 'is not a known option');
  const given = stripUndefined(options);
  // Defaults that depend on another option are derived from it, so a default never conflicts with a value the user
  // set: only values the user set can be at fault.
  const timeoutMs = given.timeoutMs ?? DEFAULTS.timeoutMs;
  const maxOpenMs = given.maxOpenMs;
  const openMs = given.openMs;
  const derived = {
    slowCallMs: typeof timeoutMs === 'number' ? Math.min(DEFAULTS.slowCallMs, timeoutMs) : DEFAULTS.slowCallMs,
    openMs: typeof maxOpenMs === 'number' ? Math.min(DEFAULTS.openMs, maxOpenMs) : DEFAULTS.openMs,
    maxOpenMs: typeof openMs === 'number' ? Math.max(DEFAULTS.maxOpenMs, openMs) : DEFAULTS.maxOpenMs,
    closedStateCacheMs: typeof given.stateCacheMs === 'number' ? 5 * given.stateCacheMs : DEFAULTS.closedStateCacheMs,
  };
  const o = { ...DEFAULTS, ...derived, ...given } as BreakerSettings & { openingPolicy?: OpeningPolicy; failureRateThreshold?: number; minimumCalls?: number };

  if (typeof o.name !== 'string' || o.name.length === 0 || utf8Bytes(o.name) > MAX_NAME_BYTES) {
    throw new BreakerConfigError('name', `must be a non-empty string of at most ${MAX_NAME_BYTES} bytes in UTF-8, got ${typeof o.name === 'string' ? `${utf8Bytes(o.name)} bytes` : typeof o.name}`);
  }
  const store = o.store as unknown as Record<string, unknown>;
  for (const method of ['read', 'recordCount', 'transition', 'acquirePermit', 'releasePermit', 'recordTrialSuccess']) {
    if (typeof store?.[method] !== 'function') throw new BreakerConfigError('store', `must be a StateStore (missing ${method}())`);
  }
  integer(o, 'failureThreshold', 1, 1_000_000);
  integer(o, 'windowMs', 1, MAX_MS);
  integer(o, 'windowBuckets', 1, MAX_WINDOW_BUCKETS);
  if (o.windowMs < o.windowBuckets) throw new BreakerConfigError('windowMs', `must be at least windowBuckets (${o.windowBuckets}), got ${o.windowMs}`);
  integer(o, 'timeoutMs', 1, MAX_MS);
  integer(o, 'slowCallMs', 1, MAX_MS);
  if (o.slowCallMs > o.timeoutMs) throw new BreakerConfigError('slowCallMs', `must be <= timeoutMs (${o.timeoutMs}), got ${o.slowCallMs}`);
  integer(o, 'openMs', 1, MAX_MS);
  integer(o, 'maxOpenMs', 1, MAX_MS);
  if (o.maxOpenMs < o.openMs) throw new BreakerConfigError('maxOpenMs', `must be >= openMs (${o.openMs}), got ${o.maxOpenMs}`);
  finite(o, 'backoffMultiplier', 1, 100);
  finite(o, 'jitterRatio', 0, 0.99);
  integer(o, 'halfOpenMaxCalls', 1, MAX_SLOTS);
  integer(o, 'halfOpenSuccessThreshold', 1, 1_000);
  integer(o, 'permitLeaseMarginMs', 0, MAX_MS);
  integer(o, 'stateCacheMs', 0, MAX_MS);
  integer(o, 'closedStateCacheMs', 0, MAX_MS);
  if (o.closedStateCacheMs < o.stateCacheMs) throw new BreakerConfigError('closedStateCacheMs', `must be >= stateCacheMs (${o.stateCacheMs}), got ${o.closedStateCacheMs}`);
  integer(o, 'storeTimeoutMs', 1, MAX_STORE_TIMEOUT_MS);
  integer(o, 'storeMaxAttempts', 1, 10);
  integer(o, 'itemTtlMs', 0, 366 * MAX_MS);
  const longestLife = o.maxOpenMs + o.windowMs + o.timeoutMs + o.permitLeaseMarginMs + o.closedStateCacheMs;
  if (o.itemTtlMs !== 0 && o.itemTtlMs < Math.max(longestLife, MIN_ITEM_TTL_MS)) {
    throw new BreakerConfigError(
      'itemTtlMs',
      `must be 0 (never expire) or at least 1 hour and maxOpenMs + windowMs + timeoutMs + permitLeaseMarginMs + closedStateCacheMs (${longestLife}), got ${o.itemTtlMs}`,
    );
  }
  if (o.onStoreError !== 'allow' && o.onStoreError !== 'deny' && o.onStoreError !== 'local') {
    throw new BreakerConfigError('onStoreError', `must be 'local', 'allow' or 'deny', got ${JSON.stringify(o.onStoreError)}`);
  }
  for (const fn of ['isFailure', 'now', 'random'] as const) {
    if (o[fn] !== undefined && typeof o[fn] !== 'function') throw new BreakerConfigError(fn, 'must be a function');
  }
  integer(o, 'countFlushMs', 0, MAX_MS);
  validateRampUp(o);
  if (o.openingPolicy !== undefined && (o.failureRateThreshold !== undefined || o.minimumCalls !== undefined)) {
    throw new BreakerConfigError('openingPolicy', 'must not be given with failureRateThreshold/minimumCalls (they choose the FailureRatePolicy)');
  }
  const policy = o.openingPolicy ?? defaultPolicy(o, given);
  for (const method of ['counterFor', 'staleCounters', 'shouldOpen', 'failuresInWindow']) {
    if (typeof (policy as unknown as Record<string, unknown>)[method] !== 'function') throw new BreakerConfigError('openingPolicy', `must be an OpeningPolicy (missing ${method}())`);
  }
  const { failureRateThreshold: _rate, minimumCalls: _minimum, ...settings } = o;
  return {
    ...settings,
    isFailure: o.isFailure ?? (() => true),
    now: checkedClock(o.now ?? Date.now),
    random: o.random ?? Math.random,
    openingPolicy: policy,
    countsSuccesses: policy instanceof FailureRatePolicy || countsSuccesses(policy),
  };
}

/**
 * The clock as the breaker uses it: an injected `now` is untrusted, and a time that is not a finite number would be
 * written into the shared item (or refused by the store) and break every instance. Such a reading rejects the call
 * with a BreakerConfigError naming `now`.
 */
function checkedClock(now: () => number): () => number {
  if (now === Date.now) return now;
  return () => {
    const time: unknown = now();
    if (typeof time !== 'number' || !Number.isFinite(time)) throw new BreakerConfigError('now', `must return epoch ms as a finite number, returned ${String(time)}`);
    return time;
  };
}

/**
 * The rate policy when failureRateThreshold and minimumCalls are given (both or neither, and not with an explicit
 * failureThreshold or openingPolicy: which one opens would be ambiguous), else the failure count policy. The rate
 * policy's judged span reaches back 2 x (countFlushMs + stateCacheMs), the longest a success can take to reach the
 * item, so that span must fit in the window.
 */
function defaultPolicy(o: BreakerSettings & { failureRateThreshold?: number; minimumCalls?: number }, given: Partial<CircuitBreakerOptions>): OpeningPolicy {
  const rate = o.failureRateThreshold !== undefined;
  const minimum = o.minimumCalls !== undefined;
  if (!rate && !minimum) return new FailureCountPolicy(o.failureThreshold, o.windowMs, o.windowBuckets);
  if (!rate) throw new BreakerConfigError('failureRateThreshold', 'is required with minimumCalls (the rate policy needs both)');
  if (!minimum) throw new BreakerConfigError('minimumCalls', 'is required with failureRateThreshold (the rate policy needs both)');
  if (given.failureThreshold !== undefined) throw new BreakerConfigError('failureThreshold', 'must not be given with failureRateThreshold (the rate policy opens on a rate, not a count)');
  const bucketMs = Math.floor(o.windowMs / o.windowBuckets);
  const room = Math.floor((o.windowMs - bucketMs) / 2) - o.stateCacheMs;
  // The default flush period shrinks to fit a short window; a period the user set must fit as it is.
  const countFlushMs = given.countFlushMs === undefined ? Math.max(0, Math.min(DEFAULTS.countFlushMs, room)) : o.countFlushMs;
  if (countFlushMs > room) {
    throw new BreakerConfigError(
      given.countFlushMs === undefined ? 'stateCacheMs' : 'countFlushMs',
      `2 x (countFlushMs + stateCacheMs) must be at most windowMs - windowMs / windowBuckets (${o.windowMs - bucketMs}): the rate is judged over a span reaching back that far; got countFlushMs ${countFlushMs}, stateCacheMs ${o.stateCacheMs}`,
    );
  }
  o.countFlushMs = countFlushMs;
  return new FailureRatePolicy({
    failureRateThreshold: o.failureRateThreshold as number,
    minimumCalls: o.minimumCalls as number,
    windowMs: o.windowMs,
    windowBuckets: o.windowBuckets,
    flushLagMs: countFlushMs + o.stateCacheMs,
  });
}

/** A custom policy stores successes when it names a counter for one. */
function countsSuccesses(policy: OpeningPolicy): boolean {
  try {
    return policy.counterFor('success', 0) !== undefined;
  } catch {
    return false;
  }
}

function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function integer(o: Record<string, unknown>, key: string, min: number, max: number): void {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new BreakerConfigError(key, `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
}

function finite(o: Record<string, unknown>, key: string, min: number, max: number): void {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new BreakerConfigError(key, `must be a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
}
