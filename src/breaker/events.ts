/** Events a breaker emits for logs and metrics. Listeners run off the hot path and never break a call. */
import type { CallOutcome } from './outcome';

export type CircuitStateName = 'CLOSED' | 'OPEN' | 'HALF_OPEN' | 'FORCED_OPEN' | 'DISABLED';

/**
 * What rejected a call: a circuit state, STORE_UNAVAILABLE (onStoreError 'deny' and the store did not answer) or
 * RAMPING_UP (closed, within rampUpMs of the close, and the call was not drawn for admission).
 */
export type RejectionState = CircuitStateName | 'STORE_UNAVAILABLE' | 'RAMPING_UP';

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
  | { type: 'rejected'; circuit: string; state: RejectionState; retryAfterMs: number | null; at: number }
  /**
   * A store request failed or was not made (skipped: the store failed moments ago, see stateCacheMs). Every outcome
   * the store did not record because of it is behind one of these.
   */
  | { type: 'storeError'; circuit: string; operation: string; error: Error; policy: 'allow' | 'deny'; skipped: boolean; at: number }
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
