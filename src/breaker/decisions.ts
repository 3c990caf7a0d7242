/**
 * Every decision of the state machine, as pure functions of (record, event, now, settings) -> decision. No I/O and
 * no clock here: CircuitBreaker performs what these functions decide, and transitions.ts says what each write is.
 *
 *   CLOSED --failures reach the policy's threshold--> OPEN --open period over, first prober--> HALF_OPEN
 *   HALF_OPEN --halfOpenSuccessThreshold trial successes--> CLOSED (counts cleared, backoff reset, closedAt set)
 *   CLOSED within rampUpMs of closedAt: a call is admitted with probability rampUpFraction, else rejected (RAMPING_UP)
 *   HALF_OPEN --one failed trial--> OPEN (next backoff step)
 *   any --forceOpen()--> FORCED_OPEN, any --disable()--> DISABLED, any --reset()--> CLOSED (operator overrides)
 *   malformed or out-of-bounds item --treated as CLOSED--> repaired to a well-formed CLOSED item by the next write
 */
import type { BreakerSettings } from './options';
import { FAILED_OUTCOMES, type CallOutcome } from './outcome';
import { livePermits, treatedAsClosed, type CircuitRecord, type PermitLease } from './state';
import { MAX_REMOVALS_PER_WRITE, type TransitionRequest, type WriteOutcome } from './store/StateStore';
import { rampUpAdmission } from './rampUp';
import { verdictOf } from './WindowedOpeningPolicy';
import { closeTransition, halfOpenTransition, openTransition, overrideTransition, repairTransition } from './transitions';

// ---- trusting the item ----------------------------------------------------------------------------------------

/**
 * The record with every time it holds checked against the settings: the item is shared input, and no value in it may
 * hold a state longer than the settings allow. An open period ending more than maxOpenMs from now, or a permit lease
 * longer than timeoutMs + permitLeaseMarginMs, is a problem (treated as closed, repaired by the next write).
 * `permitLeaseMarginMs` is allowed again on top for clock skew between the writer and this instance.
 */
export function boundedRecord(record: CircuitRecord, now: number, settings: BreakerSettings): CircuitRecord {
  const skew = settings.permitLeaseMarginMs;
  const problems: string[] = [];
  if (record.state === 'OPEN' && record.openUntil !== undefined && record.openUntil > now + settings.maxOpenMs + skew) {
    problems.push(`openUntil ${record.openUntil} is more than maxOpenMs (${settings.maxOpenMs}) ahead`);
  }
  const longestLease = settings.timeoutMs + settings.permitLeaseMarginMs + skew;
  for (const permit of record.permits) {
    if (permit.expiresAt > now + longestLease) problems.push(`p_${permit.slot} lease ends more than timeoutMs + permitLeaseMarginMs ahead`);
  }
  return problems.length === 0 ? record : treatedAsClosed(record, problems);
}

// ---- admission ------------------------------------------------------------------------------------------------

export type Admission =
  /** Call the downstream; record the outcome as a closed (or disabled) call. */
  | { kind: 'pass'; state: 'CLOSED' | 'DISABLED' }
  /**
   * Reject without calling. retryAfterMs is null when FORCED_OPEN (no end is promised). RAMPING_UP: the circuit is
   * closed but within its ramp-up, and this call was not drawn (retryAfterMs: until the ramp ends).
   */
  | { kind: 'reject'; state: 'OPEN' | 'HALF_OPEN' | 'FORCED_OPEN' | 'RAMPING_UP'; retryAfterMs: number | null }
  /** The open period is over: try OPEN -> HALF_OPEN taking slot 0 in the same write. */
  | { kind: 'probe' }
  /** Half-open with a free (or expired) slot: try to take it. */
  | { kind: 'acquire'; slot: number };

/**
 * What a call may do in the state `record` holds at `now`. `settings.random` draws a closed call's ramp-up admission
 * (only while ramping: rampUpMs > 0 and now within rampUpMs of the item's closedAt).
 */
export function admissionFor(record: CircuitRecord, now: number, settings: BreakerSettings): Admission {
  switch (record.state) {
    case 'CLOSED': {
      const ramp = rampUpAdmission(record.closedAt, now, settings, settings.random);
      return ramp.admitted ? { kind: 'pass', state: 'CLOSED' } : { kind: 'reject', state: 'RAMPING_UP', retryAfterMs: ramp.retryAfterMs };
    }
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
function freeSlot(record: CircuitRecord, now: number, halfOpenMaxCalls: number): number | undefined {
  const held = new Set(livePermits(record, now).map((permit) => permit.slot));
  for (let slot = 0; slot < halfOpenMaxCalls; slot++) if (!held.has(slot)) return slot;
  return undefined;
}

/** The write that takes a trial permit for a probe (OPEN -> HALF_OPEN) or a free half-open slot. */
export function permitRequest(record: CircuitRecord, admission: Admission & { kind: 'probe' | 'acquire' }, now: number, settings: BreakerSettings, token: string) {
  const permit: PermitLease = {
    slot: admission.kind === 'probe' ? 0 : admission.slot,
    token,
    expiresAt: now + settings.timeoutMs + settings.permitLeaseMarginMs,
  };
  return admission.kind === 'probe'
    ? ({ kind: 'transition', permit, request: halfOpenTransition(record, now, settings, permit) } as const)
    : ({ kind: 'acquirePermit', permit, request: { version: record.version as number, permit, now } } as const);
}

/** Whether `record` shows `permit` held (a retried write may have been applied by its timed-out first attempt). */
export function holds(record: CircuitRecord, permit: PermitLease): boolean {
  return record.state === 'HALF_OPEN' && record.permits.some((held) => held.slot === permit.slot && held.token === permit.token);
}

// ---- outcomes -------------------------------------------------------------------------------------------------

/** How a call ended, before the breaker records it. */
export type Settled =
  | { kind: 'resolved'; durationMs: number }
  | { kind: 'threw'; countsAsFailure: boolean }
  | { kind: 'timedOut' }
  | { kind: 'cancelled' };

export function outcomeOf(settled: Settled, settings: Pick<BreakerSettings, 'slowCallMs'>): CallOutcome {
  switch (settled.kind) {
    case 'resolved':
      return settled.durationMs > settings.slowCallMs ? 'slow' : 'success';
    case 'threw':
      return settled.countsAsFailure ? 'failure' : 'ignored';
    case 'timedOut':
      return 'timeout';
    case 'cancelled':
      return 'cancelled';
  }
}

/** What an admitted call's outcome does, by how it was admitted. */
export type OutcomeAction =
  /** Nothing to write (ignored or cancelled closed call). */
  | { kind: 'none' }
  /** A closed (or disabled) call: count it. */
  | { kind: 'count'; counted: 'success' | 'failure' }
  /** A trial that succeeded: count it toward closing, freeing its permit. */
  | { kind: 'trialSucceeded' }
  /** A trial that failed: reopen. */
  | { kind: 'trialFailed' }
  /** A trial that neither succeeded nor failed (ignored, cancelled): give the permit back. */
  | { kind: 'releasePermit' };

export function outcomeAction(admittedAs: 'counted' | 'trial', outcome: CallOutcome): OutcomeAction {
  const failed = FAILED_OUTCOMES.has(outcome);
  if (admittedAs === 'counted') {
    if (failed) return { kind: 'count', counted: 'failure' };
    return outcome === 'success' ? { kind: 'count', counted: 'success' } : { kind: 'none' };
  }
  if (failed) return { kind: 'trialFailed' };
  return outcome === 'success' ? { kind: 'trialSucceeded' } : { kind: 'releasePermit' };
}

/**
 * The counters a count write removes: those the policy calls stale a whole window before now (a margin of windowMs
 * for clock skew: an instance up to windowMs ahead cannot delete the fleet's live counts), never one being added to,
 * at most MAX_REMOVALS_PER_WRITE per write (the rest go with later writes).
 */
export function staleCountersToRemove(record: CircuitRecord, increments: Readonly<Record<string, number>>, now: number, settings: BreakerSettings): string[] {
  return settings.openingPolicy
    .staleCounters(record.counters, now - settings.windowMs)
    .filter((name) => !(name in increments))
    .slice(0, MAX_REMOVALS_PER_WRITE);
}

/** Whether a count write would certainly be refused on this item (it counts only while closed or disabled). */
export function refusesCounts(record: CircuitRecord): boolean {
  return record.problems.length === 0 && (record.state === 'OPEN' || record.state === 'HALF_OPEN' || record.state === 'FORCED_OPEN');
}

/** What follows a count write. */
export type AfterCount =
  | { kind: 'none' }
  /** The count was refused because the period the call was admitted in ended: report it, do not retry. */
  | { kind: 'discarded' }
  /** Refused only because one repair or reset moved the closed item on meanwhile: the same period, count again. */
  | { kind: 'countAgain'; version: number }
  /** The item is malformed: repair it; then count again if the count was not applied. */
  | { kind: 'repair'; request: TransitionRequest; problems: string[]; countAgain: boolean }
  /** The count reached the policy's threshold: open. */
  | { kind: 'open'; request: TransitionRequest }
  /** An operator disabled the circuit after it was read, and the count set an expiry the override must not have. */
  | { kind: 'restoreOverride'; request: TransitionRequest };

export function afterCount(result: WriteOutcome, now: number, settings: BreakerSettings, admittedVersion?: number | null): AfterCount {
  const record = boundedRecord(result.record, now, settings);
  if (record.problems.length > 0) {
    return { kind: 'repair', request: repairTransition(record, now, settings), problems: record.problems, countAgain: !result.applied };
  }
  if (!result.applied) {
    // Race: another instance repaired the item (or an operator reset it) between this call's admission and its count.
    // That single CLOSED -> CLOSED step starts no new failure period; a failure dropped here would be lost without
    // cause. Any other change (an opening, a disable, several steps) did end the period the call was admitted in.
    const admitted = admittedVersion === undefined ? undefined : (admittedVersion ?? 0);
    if (admitted !== undefined && record.state === 'CLOSED' && record.version === admitted + 1) return { kind: 'countAgain', version: record.version };
    // Refused on a well-formed item: it no longer counts (opened) or moved to another period (its version changed).
    return { kind: 'discarded' };
  }
  if (record.state === 'CLOSED') {
    // Judged on the item the write returned: only the instance whose own write reached the threshold opens.
    const verdict = verdictOf(settings.openingPolicy, record.counters, now);
    if (verdict.open) return { kind: 'open', request: openTransition(record, now, settings, verdict) };
  }
  if (record.state === 'DISABLED' && record.expiresAt !== undefined) {
    // Race: an operator disabled the circuit after this instance last read it, so the count just set an expiry on
    // an item that must last until reset. Rewriting the override (conditional on this version) removes it.
    return { kind: 'restoreOverride', request: overrideTransition(record, 'DISABLED', now, settings) };
  }
  return { kind: 'none' };
}

/** After a trial success was recorded: close when enough trials succeeded in this half-open period. */
export function afterTrialSuccess(result: WriteOutcome, now: number, settings: BreakerSettings): { kind: 'close'; request: TransitionRequest } | { kind: 'none' } {
  const record = result.record;
  if (result.applied && record.state === 'HALF_OPEN' && record.trialSuccesses >= settings.halfOpenSuccessThreshold) {
    return { kind: 'close', request: closeTransition(record, now, settings) };
  }
  return { kind: 'none' };
}

/**
 * A failed trial reopens, guarded by the half-open version the trial ran in and by still holding its permit: a late
 * failure never reopens a circuit that moved on, nor one whose permit was re-leased after this holder froze.
 */
export function trialFailedTransition(trialRecord: CircuitRecord, permit: PermitLease, now: number, settings: BreakerSettings): TransitionRequest {
  return { ...openTransition(trialRecord, now, settings), heldPermit: { slot: permit.slot, token: permit.token } };
}

// ---- operator overrides ---------------------------------------------------------------------------------------

export type Override = 'forceOpen' | 'disable' | 'reset';

/** The write an operator override makes on whatever item is there (a malformed one included: its guard matches it). */
export function overrideRequest(override: Override, record: CircuitRecord, now: number, settings: BreakerSettings): TransitionRequest {
  switch (override) {
    case 'forceOpen':
      return overrideTransition(record, 'FORCED_OPEN', now, settings);
    case 'disable':
      return overrideTransition(record, 'DISABLED', now, settings);
    case 'reset':
      return closeTransition(record, now, settings);
  }
}
