/**
 * Every store request of one instance, within its budget: each attempt gets storeTimeoutMs (its AbortSignal fires,
 * and the caller stops waiting even if the store ignores it), at most storeMaxAttempts attempts. After a request
 * failed, requests are not sent for stateCacheMs (a cooldown, so a dead store does not cost every call its budget);
 * a request skipped that way is reported like a failed one, so every outcome the store did not record is visible.
 */
import { StateStoreError, StoreItemTooLargeError, StoreTimeoutError } from './errors';
import type { BreakerEvent } from './events';
import type { StateCache } from './StateCache';
import type { CircuitRecord } from './state';
import type { WriteOutcome } from './store/StateStore';

/** Store errors after which a write was certainly not applied, so even a non-idempotent ADD may be retried. */
const NOT_APPLIED_ERRORS = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'LimitExceededException']);

/** The cause of a StateStoreError for a request that was never sent (the cooldown). */
const SKIPPED = 'StoreRequestSkipped';

/**
 * Whether a failed request certainly wrote nothing: never sent (cooldown), or refused by throttling. A count that
 * certainly was not written can be put back and sent again; any other failure may have been applied.
 */
export function certainlyNotApplied(error: unknown): boolean {
  const cause = error instanceof StateStoreError ? (error.cause as Error | undefined) : undefined;
  return cause?.name === SKIPPED || NOT_APPLIED_ERRORS.has(cause?.name ?? '');
}

export interface StoreClientSettings {
  circuit: string;
  storeTimeoutMs: number;
  storeMaxAttempts: number;
  stateCacheMs: number;
  onStoreError: 'allow' | 'deny';
  now: () => number;
}

export class StoreClient {
  /** After the store failed, calls do not wait on it again until then (epoch ms). */
  private downUntil = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly settings: StoreClientSettings,
    private readonly cache: StateCache,
    private readonly emit: (event: BreakerEvent) => void,
  ) {}

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
      throw this.failed(operation, skipped, true);
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
        return result;
      } catch (error) {
        // Not an outage (no cooldown): the store answered that the item is too big; the breaker repairs it.
        if (error instanceof StoreItemTooLargeError) {
          this.emit({ type: 'storeError', circuit: this.settings.circuit, operation, error, policy: this.settings.onStoreError, skipped: false, at: now() });
          throw error;
        }
        lastError = error;
        if (retry === 'ifNotApplied' && !NOT_APPLIED_ERRORS.has((error as Error)?.name)) break;
      } finally {
        clearTimeout(timer);
      }
    }
    this.downUntil = now() + this.settings.stateCacheMs;
    throw this.failed(operation, lastError, false);
  }

  private failed(operation: string, cause: unknown, skipped: boolean): StateStoreError {
    const error = new StateStoreError(this.settings.circuit, operation, cause);
    this.emit({ type: 'storeError', circuit: this.settings.circuit, operation, error, policy: this.settings.onStoreError, skipped, at: this.settings.now() });
    return error;
  }
}
