/**
 * Every store request of one instance, within its budget: each attempt gets storeTimeoutMs (its AbortSignal fires,
 * and the caller stops waiting even if the store ignores it), at most storeMaxAttempts attempts.
 *
 * What a failure does depends on its kind (storeErrors.ts): a throttled request is not retried at once (the item is
 * busy; the caller retries it later with backoff, see ThrottledWrites) and changes no mode. Any other failure, under
 * onStoreError 'local', puts the instance in local mode (the `health` hook) and requests are not sent for
 * stateCacheMs (so a dead store does not cost every call its budget; calls meanwhile are decided on the local state);
 * a request skipped that way is reported like a failed one, so every outcome the store did not record is visible.
 * Under 'allow' and 'deny' there is no such pause: every call asks the store, and only a call whose own request
 * failed is let through (or rejected).
 */
import { StateStoreError, StoreItemTooLargeError, StoreTimeoutError } from './errors';
import type { BreakerEvent } from './events';
import type { StateCache } from './StateCache';
import type { CircuitRecord } from './state';
import type { WriteOutcome } from './store/StateStore';
import { classifyStoreError, provesNotApplied, type StoreErrorKind } from './storeErrors';
import type { BreakerMode } from './events';

/** Told when the store answers or fails, so the breaker can switch between the shared and the local state. */
export interface StoreHealth {
  /** A request got an answer. */
  answered(): void;
  /** A request failed (after its attempts), not throttled; operator requests are not reported. */
  failed(kind: StoreErrorKind): void;
  mode(): BreakerMode;
}

/** The cause of a StateStoreError for a request that was never sent (the cooldown). */
const SKIPPED = 'StoreRequestSkipped';

/**
 * Whether a failed request certainly wrote nothing: never sent (cooldown), or refused (throttled, or another refusal
 * that proves it, storeErrors.ts). A count that
 * certainly was not written can be put back and sent again; any other failure may have been applied.
 */
export function certainlyNotApplied(error: unknown): boolean {
  const cause = error instanceof StateStoreError ? (error.cause as Error | undefined) : undefined;
  return cause?.name === SKIPPED || provesNotApplied(classifyStoreError(error));
}

export interface StoreClientSettings {
  circuit: string;
  storeTimeoutMs: number;
  storeMaxAttempts: number;
  stateCacheMs: number;
  onStoreError: 'allow' | 'deny' | 'local';
  now: () => number;
}

export class StoreClient {
  /** After the store failed, calls do not wait on it again until then (epoch ms). */
  private downUntil = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly settings: StoreClientSettings,
    private readonly cache: StateCache,
    private readonly emit: (event: BreakerEvent) => void,
    private readonly health?: StoreHealth,
  ) {}

  /** Whether requests are paused after a failure (local mode: calls are decided on the local state meanwhile). */
  paused(now: number): boolean {
    return now < this.downUntil;
  }

  /**
   * One store request. 'ifNotApplied' requests (a non-idempotent ADD) are retried only after errors that prove
   * nothing was written: counted twice is as wrong as lost. `operator` requests ignore the cooldown.
   */
  async call<T extends CircuitRecord | WriteOutcome>(
    operation: string,
    retry: 'always' | 'ifNotApplied',
    request: (signal: AbortSignal) => Promise<T>,
    operator = false,
  ): Promise<T> {
    const { storeTimeoutMs, storeMaxAttempts, now } = this.settings;
    if (!operator && now() < this.downUntil) {
      const skipped = new Error('store unavailable moments ago; not asked again yet');
      skipped.name = SKIPPED;
      throw this.failed(operation, skipped, true, 'unreachable');
    }
    let lastError: unknown;
    for (let attempt = 1; attempt <= storeMaxAttempts; attempt++) {
      const controller = new AbortController();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new StoreTimeoutError(storeTimeoutMs);
          controller.abort(error);
          reject(error);
        }, storeTimeoutMs);
      });
      const issuedSeq = this.cache.issue();
      try {
        const result = await Promise.race([request(controller.signal), timeout]);
        this.cache.learn('applied' in result ? result.record : result, issuedSeq, now());
        this.downUntil = Number.NEGATIVE_INFINITY;
        this.health?.answered();
        return result;
      } catch (error) {
        // Not an outage (no cooldown): the store answered that the item is too big; the breaker repairs it.
        if (error instanceof StoreItemTooLargeError) {
          this.health?.answered();
          this.emit({ type: 'storeError', circuit: this.settings.circuit, operation, error, policy: this.settings.onStoreError, kind: 'notApplied', mode: this.mode(), skipped: false, at: now() });
          throw error;
        }
        lastError = error;
        const kind = classifyStoreError(error);
        // Throttled: sending it again at once only adds to the load that throttled it; the caller retries it later.
        if (kind === 'throttled') break;
        // A non-idempotent ADD is sent again only when the store proved it was not applied: counted twice is as wrong as lost.
        if (retry === 'ifNotApplied' && kind !== 'notApplied') break;
      } finally {
        clearTimeout(timer);
      }
    }
    const kind = classifyStoreError(lastError);
    if (kind !== 'throttled' && !operator) {
      if (this.settings.onStoreError === 'local') this.downUntil = now() + this.settings.stateCacheMs;
      this.health?.failed(kind);
    }
    throw this.failed(operation, lastError, false, kind);
  }

  private mode(): BreakerMode {
    return this.health?.mode() ?? 'shared';
  }

  private failed(operation: string, cause: unknown, skipped: boolean, kind: StoreErrorKind): StateStoreError {
    const error = new StateStoreError(this.settings.circuit, operation, cause);
    this.emit({ type: 'storeError', circuit: this.settings.circuit, operation, error, policy: this.settings.onStoreError, kind, mode: this.mode(), skipped, at: this.settings.now() });
    return error;
  }
}
