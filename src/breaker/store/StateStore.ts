/**
 * The atomic operations the breaker needs from wherever the shared state lives. Each one is a single conditional
 * write (or a strongly consistent read), so both stores give identical semantics under any interleaving of instances.
 *
 * Every write answers with the item as it now is: on success the item after the write, on a failed condition the
 * item that made it fail (returned with the failure, or read strongly consistently where the backend cannot return it).
 * So an instance that loses a race learns the winner's state.
 */
import type { CircuitStateName } from '../events';
import type { CircuitRecord, PermitLease } from '../state';

/** Per-request settings from the breaker: the store must give up when `abortSignal` fires. */
export interface StoreRequestOptions {
  abortSignal: AbortSignal;
}

/** A read's settings. */
export interface ReadOptions extends StoreRequestOptions {
  /**
   * false allows an eventually consistent read (DynamoDB `ConsistentRead: false`); stores that are always consistent
   * (Redis, memory) ignore it.
   * @default true
   */
  consistent?: boolean;
}

/** Most stale counters one recordCount removes (keeps each write small). */
export const MAX_REMOVALS_PER_WRITE = 20;

/** What a transition leaves: a version (null = the item has no valid version) and, for a well-formed item, its state. */
export interface VersionGuard {
  version: number | null;
  state?: CircuitStateName;
}

export interface WriteOutcome {
  /** false when the write's condition failed: someone else changed the state first. */
  applied: boolean;
  record: CircuitRecord;
}

export interface RecordCountRequest {
  /** Counter name (`^[fs]_\d+$`) -> positive integer to ADD, all in the same atomic write. */
  increments: Record<string, number>;
  /** Counters to REMOVE in the same write (out of the window); never a key of `increments`; at most MAX_REMOVALS_PER_WRITE. */
  staleCounters: string[];
  /** The TTL attribute to SET (epoch seconds); absent: left as it is. */
  expiresAt?: number;
  now: number;
}

export interface TransitionRequest {
  from: VersionGuard;
  to: CircuitStateName;
  /** The version the item gets; always greater than `from.version`. */
  version: number;
  /** Set when `to` is OPEN; removed otherwise. */
  openUntil?: number;
  backoffStep: number;
  /** p_* / f_* / s_* attributes to remove (trialSuccesses is always reset to 0). */
  remove: string[];
  /** A trial permit taken in the same write (the first prober's OPEN -> HALF_OPEN). Not in `remove`. */
  permit?: PermitLease;
  /** Only if this trial permit is still held (a failed trial reopening the circuit). */
  heldPermit?: { slot: number; token: string };
  /** The TTL attribute (epoch seconds); absent: removed, so the item never expires. */
  expiresAt?: number;
  /** For operators, set by OPEN transitions (epoch ms it opened, why, failures and calls in the window); absent: left as is. */
  openedAt?: number;
  openReason?: string;
  openFailures?: number;
  openCalls?: number;
  now: number;
}

/** The TransitionRequest fields an OPEN transition writes for operators; a transition sets those it is given. */
export const OPEN_DETAILS = ['openedAt', 'openReason', 'openFailures', 'openCalls'] as const;

export interface AcquirePermitRequest {
  /** The HALF_OPEN version the permit belongs to. */
  version: number;
  permit: PermitLease;
  now: number;
}

export interface PermitRef {
  version: number;
  slot: number;
  token: string;
}

export interface StateStore {
  /** Read of the circuit's item (strongly consistent unless `options.consistent` is false). */
  read(circuit: string, options: ReadOptions): Promise<CircuitRecord>;
  /** ADD each increment to its counter, if the circuit counts outcomes (closed, disabled, or no valid state yet). */
  recordCount(circuit: string, request: RecordCountRequest, options: StoreRequestOptions): Promise<WriteOutcome>;
  /** Move to a new state, if the item is still at `from`. */
  transition(circuit: string, request: TransitionRequest, options: StoreRequestOptions): Promise<WriteOutcome>;
  /** Take a half-open trial slot, if the circuit is half-open at `version` and the slot is free or its lease expired. */
  acquirePermit(circuit: string, request: AcquirePermitRequest, options: StoreRequestOptions): Promise<WriteOutcome>;
  /** Give a slot back, if it still holds this token. */
  releasePermit(circuit: string, permit: PermitRef, options: StoreRequestOptions): Promise<WriteOutcome>;
  /** ADD 1 to trialSuccesses and free the slot, if still half-open at `version` and the slot still holds this token. */
  recordTrialSuccess(circuit: string, permit: PermitRef, options: StoreRequestOptions): Promise<WriteOutcome>;
}
