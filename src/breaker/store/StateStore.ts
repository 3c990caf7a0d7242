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

/** Options of a read. */
export interface ReadOptions extends StoreRequestOptions {
  /**
   * Whether the read must see every write acknowledged before it (DynamoDB `ConsistentRead`). false allows an
   * eventually consistent read (cheaper; cache refreshes use it). Stores that are always consistent ignore it.
   * @default true
   */
  consistent?: boolean;
}

/** At most this many stale counters are removed by one write, so an update expression stays far below DynamoDB's 4 KB. */
export const MAX_REMOVALS_PER_WRITE = 20;

/** Why a circuit opened (the `openReason` attribute). */
export type OpenReason = 'failureThreshold' | 'failureRate' | 'trialFailed' | (string & {});

/** What the OPEN transition records for operators. */
export interface OpeningDetails {
  /** Epoch ms when the circuit opened. */
  openedAt: number;
  openReason: OpenReason;
  /** Failures in the window that opened it (0 for a failed trial). */
  openFailures: number;
  /** Calls in that window, when the policy counts them (rate policy). */
  openCalls?: number;
}

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
  /**
   * Counter name (`^[fs]_\d+$`) -> positive integer to ADD, all in the same atomic write (a failure count: one entry
   * of 1; a policy that flushes buckets: several).
   */
  increments: Record<string, number>;
  /** Counters to REMOVE in the same write (out of the window); never a key of `increments`; at most MAX_REMOVALS_PER_WRITE. */
  staleCounters: string[];
  /** The TTL attribute to SET (epoch seconds); absent: left as it is. */
  expiresAt?: number;
  /**
   * The version of the period the counted calls were admitted in. When given, the write applies only while the item
   * is still at that version (null: no valid version yet, i.e. missing, malformed, or 0 as first created by a count),
   * so a late result never counts toward a later period. Absent: no version condition.
   */
  admittedVersion?: number | null;
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
  /**
   * Set by a close (HALF_OPEN -> CLOSED, reset): written as `closedAt` (epoch ms), from which the fleet's ramp-up
   * runs. Other transitions leave it as it is (it only matters while CLOSED, and a close always sets it).
   */
  closedAt?: number;
  /** Set with `to` OPEN: written as openedAt/openReason/openFailures/openCalls. A transition to CLOSED removes them. */
  opening?: OpeningDetails;
  now: number;
}

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
  /** Read the circuit's item (strongly consistent unless `options.consistent` is false). */
  read(circuit: string, options: ReadOptions): Promise<CircuitRecord>;
  /** ADD every increment, if the circuit counts outcomes (closed, disabled, or no valid state yet). */
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
