/** The breaker's options: defaults and validation in one place. A bad option fails construction, naming the option. */
import { BreakerConfigError } from './errors';
import { FailureCountPolicy } from './FailureCountPolicy';
import type { OpeningPolicy } from './OpeningPolicy';
import type { StateStore } from './store/StateStore';

export interface CircuitBreakerOptions {
  /** The circuit's name: the state item's `id`. Instances with the same name and store share one breaker. */
  name: string;
  /** Where the shared state lives: a DynamoDBStateStore, or a MemoryStateStore for one process. */
  store: StateStore;
  /** Failures (all instances together) within `windowMs` that open a closed circuit. Default 5. */
  failureThreshold?: number;
  /** The rolling window failures are counted in, ms. Default 60000. */
  windowMs?: number;
  /** Buckets the window rolls in (its granularity). Default 10. */
  windowBuckets?: number;
  /** A call still running after this is aborted, fails with CallTimeoutError and counts as a failure. Default 3000. */
  timeoutMs?: number;
  /** A call that succeeds but took longer than this returns its result and counts as a failure. Default 2000. */
  slowCallMs?: number;
  /** The first open period, ms. Default 10000. */
  openMs?: number;
  /** The longest open period backoff may reach, ms. Default 300000. */
  maxOpenMs?: number;
  /** Each reopen straight from half-open multiplies the open period by this (>= 1). Default 2. */
  backoffMultiplier?: number;
  /** Open periods are shortened by a random fraction up to this (0 <= x < 1), so a fleet does not probe in lockstep. Default 0.2. */
  jitterRatio?: number;
  /** Trial calls in flight at once, across all instances, while half-open. Default 2. */
  halfOpenMaxCalls?: number;
  /** Successful trials that close the circuit (may exceed halfOpenMaxCalls: trials run one after another). Default 2. */
  halfOpenSuccessThreshold?: number;
  /** A trial permit's lease is timeoutMs plus this, to cover the writes after the call. Default 1000. */
  permitLeaseMarginMs?: number;
  /** How long an instance trusts the closed/half-open/forced-open/disabled state it last read, ms (0 = always read). Default 1000. */
  stateCacheMs?: number;
  /** Budget of one store request attempt, ms. Default 250. */
  storeTimeoutMs?: number;
  /** Attempts per store request (a timed-out failure count is never retried: it may have been applied). Default 2. */
  storeMaxAttempts?: number;
  /** When the store cannot answer before a call: 'allow' lets the call through, 'deny' rejects it. Default 'allow'. */
  onStoreError?: 'allow' | 'deny';
  /** Whether a thrown error counts as a failure (e.g. return false for a 404). Default: every error counts. */
  isFailure?: (error: unknown) => boolean;
  /** The clock, epoch ms. Default Date.now. */
  now?: () => number;
  /** Random numbers in [0, 1) for jitter and permit tokens. Default Math.random. */
  random?: () => number;
  /** When a closed circuit opens. Default: a FailureCountPolicy(failureThreshold, windowMs, windowBuckets). */
  openingPolicy?: OpeningPolicy;
  /**
   * How long after its last write the state item may be deleted by the table's TTL (the `expiresAt` attribute), ms;
   * 0 = never. An item written that long ago holds nothing live (no open period, lease or count in the window), so
   * deleting it is the same as keeping it. Items an operator forced open or disabled never expire. Default 7 days.
   */
  itemTtlMs?: number;
}

export type BreakerSettings = Required<Omit<CircuitBreakerOptions, 'openingPolicy'>> & { openingPolicy: OpeningPolicy };

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
  storeTimeoutMs: 250,
  storeMaxAttempts: 2,
  onStoreError: 'allow',
  itemTtlMs: 7 * 24 * 60 * 60 * 1000,
} as const;

const KNOWN = new Set<string>([...Object.keys(DEFAULTS), 'name', 'store', 'isFailure', 'now', 'random', 'openingPolicy']);

/** Upper bounds that catch unit mistakes (seconds for ms) and keep the item small. */
const MAX_MS = 24 * 60 * 60 * 1000;
const MAX_SLOTS = 50;
const MAX_STORE_TIMEOUT_MS = 10_000;
/** TTL deletion runs up to days late and ignores seconds; below an hour the setting would be a misunderstanding. */
const MIN_ITEM_TTL_MS = 60 * 60 * 1000;

export function resolveOptions(options: CircuitBreakerOptions): BreakerSettings {
  if (typeof options !== 'object' || options === null) throw new BreakerConfigError('options', 'must be an object');
  for (const key of Object.keys(options)) if (!KNOWN.has(key)) throw new BreakerConfigError(key, 'is not a known option');
  const o = { ...DEFAULTS, ...stripUndefined(options) } as BreakerSettings & { openingPolicy?: OpeningPolicy };

  if (typeof o.name !== 'string' || o.name.length === 0 || o.name.length > 1024) throw new BreakerConfigError('name', 'must be a non-empty string of at most 1024 characters');
  const store = o.store as unknown as Record<string, unknown>;
  for (const method of ['read', 'recordCount', 'transition', 'acquirePermit', 'releasePermit', 'recordTrialSuccess']) {
    if (typeof store?.[method] !== 'function') throw new BreakerConfigError('store', `must be a StateStore (missing ${method}())`);
  }
  integer(o, 'failureThreshold', 1, 1_000_000);
  integer(o, 'windowMs', 1, MAX_MS);
  integer(o, 'windowBuckets', 1, 1_000);
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
  integer(o, 'storeTimeoutMs', 1, MAX_STORE_TIMEOUT_MS);
  integer(o, 'storeMaxAttempts', 1, 10);
  integer(o, 'itemTtlMs', 0, 366 * MAX_MS);
  const longestLife = o.maxOpenMs + o.windowMs + o.timeoutMs + o.permitLeaseMarginMs + o.stateCacheMs;
  if (o.itemTtlMs !== 0 && o.itemTtlMs < Math.max(longestLife, MIN_ITEM_TTL_MS)) {
    throw new BreakerConfigError(
      'itemTtlMs',
      `must be 0 (never expire) or at least 1 hour and maxOpenMs + windowMs + timeoutMs + permitLeaseMarginMs + stateCacheMs (${longestLife}), got ${o.itemTtlMs}`,
    );
  }
  if (o.onStoreError !== 'allow' && o.onStoreError !== 'deny') throw new BreakerConfigError('onStoreError', `must be 'allow' or 'deny', got ${JSON.stringify(o.onStoreError)}`);
  for (const fn of ['isFailure', 'now', 'random'] as const) {
    if (o[fn] !== undefined && typeof o[fn] !== 'function') throw new BreakerConfigError(fn, 'must be a function');
  }
  const policy = o.openingPolicy ?? new FailureCountPolicy(o.failureThreshold, o.windowMs, o.windowBuckets);
  for (const method of ['counterFor', 'staleCounters', 'shouldOpen', 'failuresInWindow']) {
    if (typeof (policy as unknown as Record<string, unknown>)[method] !== 'function') throw new BreakerConfigError('openingPolicy', `must be an OpeningPolicy (missing ${method}())`);
  }
  return {
    ...o,
    isFailure: o.isFailure ?? (() => true),
    now: o.now ?? Date.now,
    random: o.random ?? Math.random,
    openingPolicy: policy,
  };
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
