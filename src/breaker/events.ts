/** Events a breaker emits for logs and metrics. Listeners run off the hot path and never break a call. */
import type { CallOutcome } from './outcome';
import type { StoreErrorKind } from './storeErrors';

/** Where an instance's decisions come from: the shared item, or (onStoreError 'local', store unreachable) its own state. */
export type BreakerMode = 'shared' | 'local';

export type CircuitStateName = 'CLOSED' | 'OPEN' | 'HALF_OPEN' | 'FORCED_OPEN' | 'DISABLED';

/**
 * What rejected a call: a circuit state, STORE_UNAVAILABLE (onStoreError 'deny' and the store did not answer) or
 * RAMPING_UP (closed, within rampUpMs of the close, and the call was not drawn for admission).
 */
export type RejectionState = CircuitStateName | 'STORE_UNAVAILABLE' | 'STORE_THROTTLED' | 'RAMPING_UP';

export type BreakerEvent =
  | {
      type: 'stateChange';
      circuit: string;
      from: CircuitStateName;
      to: CircuitStateName;
      /** Why: 'failureThreshold', 'openPeriodElapsed', 'trialSucceeded', 'trialFailed', 'forceOpen', 'disable', 'reset'. */
      reason: string;
      /** Epoch ms, from the breaker's clock. */
      at: number;
      /** Set when `to` is OPEN: when the circuit may next be probed (epoch ms). */
      openUntil?: number;
    }
  /**
   * This instance's own circuit (onStoreError 'local', while the store cannot answer) changed state. Same fields as
   * stateChange; the shared state is not affected.
   */
  | {
      type: 'localStateChange';
      circuit: string;
      from: CircuitStateName;
      to: CircuitStateName;
      reason: string;
      at: number;
      openUntil?: number;
    }
  /**
   * A call was not admitted. STORE_UNAVAILABLE: onStoreError 'deny' and the store could not answer. STORE_THROTTLED:
   * this instance's failure count (or the opening it leads to) was throttled and is waiting for its retry: the fleet
   * is busy writing the item, which means the downstream is failing, so the instance holds off until it learns more.
   */
  | { type: 'rejected'; circuit: string; state: RejectionState; retryAfterMs: number | null; at: number }
  /**
   * A store request failed or was not made (skipped: in local mode the store is asked again only stateCacheMs after
   * it last failed). Every outcome the store did not record because of it is behind one of these.
   * `kind`: throttled (the store is up but the item is busy: retried later with backoff, no mode change),
   * notApplied, unreachable or unknown (see storeErrors.ts). `mode`: whether this instance decides on the shared
   * state or, since the store cannot answer, on its own (onStoreError 'local').
   */
  | {
      type: 'storeError';
      circuit: string;
      operation: string;
      error: Error;
      policy: 'allow' | 'deny' | 'local';
      kind: StoreErrorKind;
      mode: BreakerMode;
      skipped: boolean;
      at: number;
    }
  /**
   * The instance started deciding on its own state (active true: the store could not answer, onStoreError 'local')
   * or returned to the shared state (active false: the store answered again).
   */
  | { type: 'localMode'; circuit: string; active: boolean; at: number }
  /** A missing-state, partial, malformed or out-of-bounds item was treated as closed and rewritten as a well-formed closed item. */
  | { type: 'itemRepaired'; circuit: string; problems: string[]; at: number }
  /**
   * A call's outcome was not counted because the period it was admitted in had ended (the circuit opened, or an
   * operator changed it, while the call ran): a late result never counts toward a later period.
   */
  | { type: 'outcomeDiscarded'; circuit: string; outcome: CallOutcome; reason: 'periodEnded'; at: number }
  | {
      type: 'callCompleted';
      circuit: string;
      /** Never 'rejected' (a rejection is its own event). */
      outcome: CallOutcome;
      durationMs: number;
      /** The state the call was admitted in. */
      state: CircuitStateName;
      at: number;
    };

export type BreakerEventListener = (event: BreakerEvent) => void;
