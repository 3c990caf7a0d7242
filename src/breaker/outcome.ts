/** How one call through the breaker ended: the one outcome type the breaker, its events and its callers share. */
import type { RejectionState } from './events';

/**
 * - `success`: fn resolved within slowCallMs (a trial success counts toward closing).
 * - `failure`: fn threw an error that counts (isFailure did not say false).
 * - `ignored`: fn threw an error isFailure exempted (counts neither way; a trial gives its permit back).
 * - `slow`: fn resolved after slowCallMs: its value is returned, and it counts as a failure.
 * - `timeout`: fn ran past timeoutMs: rejected with CallTimeoutError, counts as a failure.
 * - `cancelled`: the caller's signal aborted the call: counts neither way (a trial gives its permit back).
 * - `rejected`: the circuit did not admit the call; fn was not called.
 */
export type CallOutcome = 'success' | 'failure' | 'ignored' | 'slow' | 'timeout' | 'cancelled' | 'rejected';

/** Outcomes that count as a failure of the downstream. */
export const FAILED_OUTCOMES: ReadonlySet<CallOutcome> = new Set<CallOutcome>(['failure', 'slow', 'timeout']);

/** What `execute` reports to its caller through `onSettled`, before its promise settles. */
export interface CallDetails {
  circuit: string;
  outcome: CallOutcome;
  /**
   * The state the call was admitted (or rejected) in; STORE_UNAVAILABLE when onStoreError 'deny' rejected it (a call
   * let through by 'allow' ran as CLOSED), STORE_THROTTLED when this instance's failure count was throttled and awaits
   * its retry, RAMPING_UP when a ramp-up after a close did not draw it. Absent when the caller's signal had aborted
   * before admission.
   */
  state?: RejectionState;
  /** From admission to settling, ms (0 for a rejection). */
  durationMs: number;
  /** Set when this call's outcome opened the circuit: when it may next be probed (epoch ms). */
  openUntil?: number;
}
