/**
 * A proposed extension of `OpeningPolicy` (which stays as it is): what a policy that counts both outcomes must also
 * tell the breaker, so the breaker can report calls and rates (`getState()`, `npm run breaker -- status`) and record
 * on the OPEN transition the numbers that opened the circuit (`openReason`, `openFailures`, `openCalls`).
 *
 * `verdictOf()` gives the same answer for any `OpeningPolicy`, extended or not, so the executor needs one code path.
 */
import type { OpeningPolicy } from './OpeningPolicy';

/** Calls and failures counted in some span of the window. `calls` includes the failures. */
export interface WindowTotals {
  calls: number;
  failures: number;
}

/** A policy's decision on the counters, with the numbers it was made on. */
export interface OpeningVerdict {
  open: boolean;
  /** The `openReason` to record if this opens the circuit. */
  reason: 'failureThreshold' | 'failureRate';
  /** Failures in the span the decision was made on (`openFailures`). */
  failures: number;
  /** Calls in that span (`openCalls`); absent when the policy does not count successes. */
  calls?: number;
}

export interface WindowedOpeningPolicy extends OpeningPolicy {
  /** Calls and failures over the whole live window at `now` (for status reports). */
  windowTotals(counters: Readonly<Record<string, number>>, now: number): WindowTotals;
  /** `shouldOpen` with the numbers behind it. `evaluate(c, t).open === shouldOpen(c, t)`. */
  evaluate(counters: Readonly<Record<string, number>>, now: number): OpeningVerdict;
}

export function isWindowedOpeningPolicy(policy: OpeningPolicy): policy is WindowedOpeningPolicy {
  const candidate = policy as Partial<WindowedOpeningPolicy>;
  return typeof candidate.windowTotals === 'function' && typeof candidate.evaluate === 'function';
}

/** The verdict of any policy: an extended one's own, or for a plain one (FailureCountPolicy) a failure count's. */
export function verdictOf(policy: OpeningPolicy, counters: Readonly<Record<string, number>>, now: number): OpeningVerdict {
  if (isWindowedOpeningPolicy(policy)) return policy.evaluate(counters, now);
  return { open: policy.shouldOpen(counters, now), reason: 'failureThreshold', failures: policy.failuresInWindow(counters, now) };
}
