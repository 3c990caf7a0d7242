/** Events a breaker emits for logs and metrics. Listeners run off the hot path and never break a call. */

export type CircuitStateName = 'CLOSED' | 'OPEN' | 'HALF_OPEN' | 'FORCED_OPEN' | 'DISABLED';

export type BreakerEvent =
  | {
      type: 'stateChange';
      circuit: string;
      from: CircuitStateName;
      to: CircuitStateName;
      /** Why: 'failureThreshold', 'openPeriodElapsed', 'trialSucceeded', 'trialFailed', 'permitLeaseExpired', 'forceOpen', 'disable', 'reset'. */
      reason: string;
      /** Epoch ms, from the breaker's clock. */
      at: number;
      /** Set when `to` is OPEN: when the circuit may next be probed (epoch ms). */
      openUntil?: number;
    }
  | { type: 'rejected'; circuit: string; state: CircuitStateName | 'STORE_UNAVAILABLE'; retryAfterMs: number | null; at: number }
  | { type: 'storeError'; circuit: string; operation: string; error: Error; policy: 'allow' | 'deny'; at: number }
  /** A missing-state, partial or malformed item was treated as closed and rewritten as a well-formed closed item. */
  | { type: 'itemRepaired'; circuit: string; problems: string[]; at: number }
  | {
      type: 'callCompleted';
      circuit: string;
      /** success | failure (threw and counted) | ignored (threw, isFailure said no) | slow (succeeded, counted) | timeout */
      outcome: 'success' | 'failure' | 'ignored' | 'slow' | 'timeout';
      durationMs: number;
      /** The state the call was admitted in. */
      state: CircuitStateName;
      at: number;
    };

export type BreakerEventListener = (event: BreakerEvent) => void;
