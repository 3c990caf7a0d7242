/**
 * The state machine as pure functions of (record, time, settings): what a call may do in a state, and the exact
 * write each transition makes. No I/O here; CircuitBreaker performs what these functions decide.
 *
 *   CLOSED --failures reach the policy's threshold--> OPEN --open period over, first prober--> HALF_OPEN
 *   HALF_OPEN --halfOpenSuccessThreshold trial successes--> CLOSED (counts cleared, backoff reset)
 *   HALF_OPEN --one failed trial--> OPEN (next backoff step)
 *   any --forceOpen()--> FORCED_OPEN, any --disable()--> DISABLED, any --reset()--> CLOSED (operator overrides)
 */
import { openDuration } from './backoff';
import type { CircuitStateName } from './events';
import type { OpeningPolicy } from './OpeningPolicy';
import type { BreakerSettings } from './options';
import { livePermits, PERMIT_NAME, type CircuitRecord, type PermitLease } from './state';
import type { TransitionRequest, VersionGuard } from './store/StateStore';

export type Admission =
  /** Call the downstream; record the outcome as a closed (or disabled) call. */
  | { kind: 'pass'; state: 'CLOSED' | 'DISABLED' }
  /** Reject without calling. */
  | { kind: 'reject'; state: 'OPEN' | 'HALF_OPEN' | 'FORCED_OPEN'; retryAfterMs: number | null }
  /** The open period is over: try OPEN -> HALF_OPEN taking slot 0 in the same write. */
  | { kind: 'probe' }
  /** Half-open with a free (or expired) slot: try to take it. */
  | { kind: 'acquire'; slot: number };

export function admissionFor(record: CircuitRecord, now: number, settings: BreakerSettings): Admission {
  switch (record.state) {
    case 'CLOSED':
    case 'DISABLED':
      return { kind: 'pass', state: record.state };
    case 'FORCED_OPEN':
      // No end is known: the operator decides.
      return { kind: 'reject', state: 'FORCED_OPEN', retryAfterMs: null };
    case 'OPEN': {
      const openUntil = record.openUntil ?? 0;
      return now < openUntil ? { kind: 'reject', state: 'OPEN', retryAfterMs: openUntil - now } : { kind: 'probe' };
    }
    case 'HALF_OPEN': {
      const slot = freeSlot(record, now, settings.halfOpenMaxCalls);
      // A permit may free up any moment, so there is no better hint than 0.
      return slot === undefined ? { kind: 'reject', state: 'HALF_OPEN', retryAfterMs: 0 } : { kind: 'acquire', slot };
    }
  }
}

/** The lowest slot below halfOpenMaxCalls that is empty or whose lease expired. */
export function freeSlot(record: CircuitRecord, now: number, halfOpenMaxCalls: number): number | undefined {
  const held = new Set(livePermits(record, now).map((permit) => permit.slot));
  for (let slot = 0; slot < halfOpenMaxCalls; slot++) if (!held.has(slot)) return slot;
  return undefined;
}

export function guardOf(record: CircuitRecord): VersionGuard {
  return record.problems.length === 0 && record.version !== null ? { version: record.version, state: record.state } : { version: record.version };
}

function nextVersion(record: CircuitRecord): number {
  return (record.version ?? 0) + 1;
}

function allSlotsAndCounters(record: CircuitRecord): string[] {
  return [...record.slotAndCounterNames];
}

function slotsOnly(record: CircuitRecord, halfOpenMaxCalls: number): string[] {
  const names = new Set(record.slotAndCounterNames.filter((attribute) => PERMIT_NAME.test(attribute)));
  // Slots taken after `record` was read (same version) are unknown here; removing every possible slot covers them.
  for (let slot = 0; slot < halfOpenMaxCalls; slot++) names.add(`p_${slot}`);
  return [...names];
}

/** CLOSED -> OPEN (reason failureThreshold) or HALF_OPEN -> OPEN (trialFailed, next backoff step). */
export function openTransition(record: CircuitRecord, now: number, settings: BreakerSettings): TransitionRequest {
  const backoffStep = record.state === 'HALF_OPEN' ? record.backoffStep + 1 : 0;
  const trial = record.state === 'HALF_OPEN';
  return {
    opening: {
      openedAt: now,
      openReason: trial ? 'trialFailed' : 'failureThreshold',
      openFailures: trial ? 0 : settings.openingPolicy.failuresInWindow(record.counters, now),
    },
    from: guardOf(record),
    to: 'OPEN',
    version: nextVersion(record),
    openUntil: now + openDuration(backoffStep, settings, settings.random),
    backoffStep,
    // Counts of the closed period and every trial permit end with it.
    remove: [...new Set([...allSlotsAndCounters(record), ...slotsOnly(record, settings.halfOpenMaxCalls)])],
    ...itemExpiry('OPEN', now, settings),
    now,
  };
}

/** OPEN -> HALF_OPEN by the first caller after the open period, holding `permit` (slot 0). */
export function halfOpenTransition(record: CircuitRecord, now: number, settings: BreakerSettings, permit: PermitLease): TransitionRequest {
  return {
    from: guardOf(record),
    to: 'HALF_OPEN',
    version: nextVersion(record),
    backoffStep: record.backoffStep,
    remove: slotsOnly(record, settings.halfOpenMaxCalls).filter((attribute) => attribute !== `p_${permit.slot}`),
    permit,
    ...itemExpiry('HALF_OPEN', now, settings),
    now,
  };
}

/** HALF_OPEN -> CLOSED (trial successes reached), or any -> CLOSED by reset(): counts cleared, backoff reset. */
export function closeTransition(record: CircuitRecord, now: number, settings: BreakerSettings): TransitionRequest {
  return {
    from: guardOf(record),
    to: 'CLOSED',
    version: nextVersion(record),
    backoffStep: 0,
    remove: [...new Set([...allSlotsAndCounters(record), ...slotsOnly(record, settings.halfOpenMaxCalls)])],
    ...itemExpiry('CLOSED', now, settings),
    now,
  };
}

/** forceOpen() / disable(): permits are dropped (trials in flight lose them), counts are kept. */
export function overrideTransition(record: CircuitRecord, to: 'FORCED_OPEN' | 'DISABLED', now: number, settings: BreakerSettings): TransitionRequest {
  return {
    from: guardOf(record),
    to,
    version: nextVersion(record),
    backoffStep: record.backoffStep,
    remove: slotsOnly(record, settings.halfOpenMaxCalls),
    ...itemExpiry(to, now, settings),
    now,
  };
}

/** A malformed item becomes a well-formed closed one: valid counters are kept, everything else of ours goes. */
export function repairTransition(record: CircuitRecord, now: number, settings: BreakerSettings): TransitionRequest {
  return {
    from: guardOf(record),
    to: 'CLOSED',
    version: nextVersion(record),
    backoffStep: 0,
    remove: record.slotAndCounterNames.filter((attribute) => !(attribute in record.counters)),
    ...itemExpiry('CLOSED', now, settings),
    now,
  };
}

/**
 * The TTL attribute a write leaving the item in `state` sets: itemTtlMs after now, in epoch seconds (DynamoDB's TTL
 * unit). None for the operator states, which must last until reset, nor when itemTtlMs is 0.
 */
export function itemExpiry(state: CircuitStateName, now: number, settings: BreakerSettings): { expiresAt?: number } {
  if (settings.itemTtlMs === 0 || state === 'FORCED_OPEN' || state === 'DISABLED') return {};
  return { expiresAt: Math.ceil((now + settings.itemTtlMs) / 1000) };
}

export interface CircuitSnapshot {
  circuit: string;
  state: CircuitStateName;
  /** Failures counted in the current window (all instances). */
  failures: number;
  /** When an OPEN circuit may next be probed, epoch ms. */
  openUntil?: number;
  /** ms until the circuit may be probed; 0 if not open; null when FORCED_OPEN (no end is promised). */
  retryAfterMs: number | null;
  /** When the circuit last opened, epoch ms (kept while OPEN, HALF_OPEN or FORCED_OPEN after an opening). */
  openedAt?: number;
  /** Why it last opened: failureThreshold, failureRate or trialFailed. */
  openReason?: string;
  /** Failures in the window that opened it. */
  openFailures?: number;
  /** Calls in the window that opened it (rate policy). */
  openCalls?: number;
  /** Reopens straight from half-open since the last close: the backoff step of the current/next open period. */
  reopenCount: number;
  /** Trial permits currently leased (half-open). */
  trialsInFlight: number;
  /** Successful trials in the current half-open period. */
  trialSuccesses: number;
  /** The item's version (null before the first write, or when malformed). */
  version: number | null;
  /** Why the stored item was treated as closed; empty when it is well-formed. */
  problems: string[];
}

export function snapshotOf(record: CircuitRecord, now: number, policy: OpeningPolicy): CircuitSnapshot {
  const open = record.state === 'OPEN' && record.openUntil !== undefined;
  return {
    circuit: record.circuit,
    state: record.state,
    failures: policy.failuresInWindow(record.counters, now),
    ...(open ? { openUntil: record.openUntil } : {}),
    retryAfterMs: record.state === 'FORCED_OPEN' ? null : open ? Math.max(0, (record.openUntil as number) - now) : 0,
    ...(record.state === 'CLOSED' || record.state === 'DISABLED' ? {} : (record.opening ?? {})),
    reopenCount: record.backoffStep,
    trialsInFlight: record.state === 'HALF_OPEN' ? livePermits(record, now).length : 0,
    trialSuccesses: record.trialSuccesses,
    version: record.version,
    problems: [...record.problems],
  };
}
