/** Every error the breaker throws to a caller. All extend BreakerError, so `error instanceof BreakerError` catches them. */

/** The base class of every error the breaker itself throws (never of an error `fn` throws, which passes through). */
export class BreakerError extends Error {
  override readonly name: string = 'BreakerError';
}

/** The circuit is open (or half-open with no free trial permit, or forced open): the call was not made. */
export class CircuitOpenError extends BreakerError {
  override readonly name = 'CircuitOpenError';
  constructor(
    /** The circuit's name. */
    readonly circuit: string,
    /**
     * How long until the circuit may be probed again, ms; 0 when a trial permit may free up any moment; null when
     * FORCED_OPEN (an operator decides when it ends).
     */
    readonly retryAfterMs: number | null,
    /**
     * The state that rejected the call: OPEN, HALF_OPEN, FORCED_OPEN, RAMPING_UP (closed, within rampUpMs of a close,
     * not drawn: retryAfterMs is the time until the ramp ends), the store-error policy's `STORE_UNAVAILABLE`, or
     * `STORE_THROTTLED` (this instance's failure count was throttled and waits for its retry).
     */
    readonly state: string,
  ) {
    super(retryAfterMs === null ? `circuit '${circuit}' is ${state} until an operator resets it` : `circuit '${circuit}' is ${state}; retry after ${retryAfterMs} ms`);
  }
}

/** The protected call ran longer than `timeoutMs`; its AbortSignal was aborted. Counts as a failure. */
export class CallTimeoutError extends BreakerError {
  override readonly name = 'CallTimeoutError';
  constructor(
    readonly circuit: string,
    readonly timeoutMs: number,
  ) {
    super(`call through circuit '${circuit}' timed out after ${timeoutMs} ms`);
  }
}

/**
 * The caller aborted the call (the `signal` given to `execute`) without giving a reason that is an Error. Not a
 * failure of the downstream: it counts neither way.
 */
export class CallCancelledError extends BreakerError {
  override readonly name = 'CallCancelledError';
  constructor(
    readonly circuit: string,
    /** The signal's reason, when it was not an Error. */
    readonly reason?: unknown,
  ) {
    super(`call through circuit '${circuit}' was cancelled by its caller`);
  }
}

/** A breaker option is missing or out of range. */
export class BreakerConfigError extends BreakerError {
  override readonly name = 'BreakerConfigError';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`invalid circuit breaker option '${option}': ${message}`);
  }
}

/** The state store did not answer within its budget (storeTimeoutMs x storeMaxAttempts) or failed. */
export class StateStoreError extends BreakerError {
  override readonly name = 'StateStoreError';
  constructor(
    readonly circuit: string,
    /** The store operation: read, recordCount, transition, acquirePermit, releasePermit, recordTrialSuccess. */
    readonly operation: string,
    override readonly cause: unknown,
  ) {
    super(`state store ${operation} for circuit '${circuit}' failed: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** One store attempt ran past storeTimeoutMs. */
export class StoreTimeoutError extends BreakerError {
  override readonly name = 'StoreTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`state store did not answer within ${timeoutMs} ms`);
  }
}

/**
 * An operator override (forceOpen, disable, reset) lost the race for the item every time it tried: other instances
 * kept changing the state. The store answered each time; retrying later is safe.
 */
export class OverrideContentionError extends BreakerError {
  override readonly name = 'OverrideContentionError';
  constructor(
    readonly circuit: string,
    /** forceOpen, disable or reset. */
    readonly override: string,
    readonly attempts: number,
  ) {
    super(`${override} of circuit '${circuit}': the state kept changing under ${attempts} attempts`);
  }
}

/**
 * A store write would make the state item larger than the store allows (DynamoDB: 400 KB), e.g. an item padded by
 * something else. Thrown by a store; the breaker answers it by repairing the item (a transition to CLOSED with
 * backoffStep 0, which a store must then make by rewriting the whole item) and reports it as itemRepaired.
 */
export class StoreItemTooLargeError extends BreakerError {
  override readonly name = 'StoreItemTooLargeError';
  constructor(
    readonly circuit: string,
    override readonly cause: unknown,
  ) {
    super(`the state item of circuit '${circuit}' is too large to write: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}
