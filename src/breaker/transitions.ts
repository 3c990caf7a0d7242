/**
 * The exact write each transition makes, as pure functions of (record, now, settings). decisions.ts says when each
 * one happens; CircuitBreaker sends them; the stores make each one atomic and conditional on `from`.
 *
 * Every write stays within DynamoDB's limits whatever the item holds: it removes at most the counters still in the
 * window (at most the policy's buckets), the permit slots (at most halfOpenMaxCalls) and MAX_REMOVALS_PER_WRITE
 * others (stale counters, stray permits); what is left is stale and goes with later writes.
 */
import { openDuration } from './backoff';
import type { CircuitStateName } from './events';
import type { BreakerSettings } from './options';
import { PERMIT_NAME, type CircuitRecord, type PermitLease } from './state';
import { MAX_REMOVALS_PER_WRITE, type TransitionRequest, type VersionGuard } from './store/StateStore';
import { verdictOf, type OpeningVerdict } from './WindowedOpeningPolicy';

/** backoffStep never grows past this: the open period is capped at maxOpenMs long before. */
const MAX_BACKOFF_STEP = 1_000;
/**
 * Valid counters one clearing write removes at most: two kinds (f_, s_) x the most windowBuckets allowed, plus
 * MAX_REMOVALS_PER_WRITE. A planted item with more (future buckets) keeps the rest until later writes.
 */
const MAX_COUNTER_REMOVALS = 2 * 100 + MAX_REMOVALS_PER_WRITE;

/** The guard that matches exactly the item `record` was read from, malformed ones included. */
function guardOf(record: CircuitRecord): VersionGuard {
  if (record.version === null) return { version: record.invalidNumericVersion ?? null };
  return record.problems.length === 0 ? { version: record.version, state: record.state } : { version: record.version };
}

/** A valid version above the item's; for an invalid stored one (1.5, 1e300) any valid version does (the guard matches the bad value). */
function nextVersion(record: CircuitRecord): number {
  if (record.version !== null) return record.version + 1;
  const stored = record.invalidNumericVersion;
  const next = stored === undefined ? 1 : Math.max(0, Math.floor(stored)) + 1;
  return Number.isSafeInteger(next) ? next : 1;
}

/** Permit slots to clear: every slot a trial may hold, plus stray p_* attributes (bounded). */
function slotsToClear(record: CircuitRecord, halfOpenMaxCalls: number): string[] {
  const names = new Set<string>();
  // Slots taken after `record` was read (same version) are unknown here; removing every possible slot covers them.
  for (let slot = 0; slot < halfOpenMaxCalls; slot++) names.add(`p_${slot}`);
  const stray = record.slotAndCounterNames.filter((attribute) => PERMIT_NAME.test(attribute) && !names.has(attribute));
  for (const attribute of stray.slice(0, MAX_REMOVALS_PER_WRITE)) names.add(attribute);
  return [...names];
}

/** Counters to clear when a period ends: every valid counter (live ones first), then at most MAX_REMOVALS_PER_WRITE invalid ones. */
function countersToClear(record: CircuitRecord, settings: BreakerSettings, now: number): string[] {
  const stale = new Set(settings.openingPolicy.staleCounters(record.counters, now));
  const live = Object.keys(record.counters).filter((counter) => !stale.has(counter));
  const invalid = record.slotAndCounterNames.filter((attribute) => !PERMIT_NAME.test(attribute) && !(attribute in record.counters));
  return [...live, ...[...stale, ...invalid].slice(0, MAX_REMOVALS_PER_WRITE)].slice(0, MAX_COUNTER_REMOVALS);
}

function clearAll(record: CircuitRecord, settings: BreakerSettings, now: number): string[] {
  return [...new Set([...countersToClear(record, settings, now), ...slotsToClear(record, settings.halfOpenMaxCalls)])];
}

/**
 * CLOSED -> OPEN (the policy's verdict: failureThreshold or failureRate, with the numbers it was judged on) or
 * HALF_OPEN -> OPEN (trialFailed, next backoff step).
 */
export function openTransition(record: CircuitRecord, now: number, settings: BreakerSettings, verdict?: OpeningVerdict): TransitionRequest {
  const judged = verdict ?? verdictOf(settings.openingPolicy, record.counters, now);
  const trial = record.state === 'HALF_OPEN';
  const backoffStep = trial ? Math.min(record.backoffStep + 1, MAX_BACKOFF_STEP) : 0;
  return {
    from: guardOf(record),
    to: 'OPEN',
    version: nextVersion(record),
    openUntil: now + openDuration(backoffStep, settings, settings.random),
    backoffStep,
    // Counts of the closed period and every trial permit end with it.
    remove: clearAll(record, settings, now),
    opening: trial
      ? { openedAt: now, openReason: 'trialFailed', openFailures: 0 }
      : { openedAt: now, openReason: judged.reason, openFailures: judged.failures, ...(judged.calls === undefined ? {} : { openCalls: judged.calls }) },
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
    remove: slotsToClear(record, settings.halfOpenMaxCalls).filter((attribute) => attribute !== `p_${permit.slot}`),
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
    remove: clearAll(record, settings, now),
    // The fleet's ramp-up (rampUpMs) runs from here; the accumulators drop what they held from before it.
    closedAt: now,
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
    remove: slotsToClear(record, settings.halfOpenMaxCalls),
    ...itemExpiry(to, now, settings),
    now,
  };
}

/** A malformed item becomes a well-formed closed one: valid counters are kept, everything else of ours goes (bounded). */
export function repairTransition(record: CircuitRecord, now: number, settings: BreakerSettings): TransitionRequest {
  return {
    from: guardOf(record),
    to: 'CLOSED',
    version: nextVersion(record),
    backoffStep: 0,
    remove: [
      ...slotsToClear(record, settings.halfOpenMaxCalls),
      ...record.slotAndCounterNames.filter((attribute) => !PERMIT_NAME.test(attribute) && !(attribute in record.counters)).slice(0, MAX_REMOVALS_PER_WRITE),
    ],
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
