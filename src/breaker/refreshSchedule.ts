/**
 * How long an instance trusts the state it last learned before refreshing it. Pure: (state, settings, random).
 *
 * - CLOSED: `closedStateCacheMs` (longer than the others by default). A closed instance learns of an opening from its
 *   own first failure write (the refused count returns the OPEN item), so a longer closed cache costs at most one call
 *   per instance when the circuit opens elsewhere. What it delays is an operator's `forceOpen()` (and `disable()`),
 *   which a closed instance obeys only once its closed cache expires.
 * - OPEN: until the open period ends, plus a random delay up to `stateCacheMs` drawn by each instance; then the
 *   instance reads the item (an eventually consistent read) and probes only if it still reads OPEN. Without the
 *   delay every instance of a fleet would send its probe write at the same instant (N writes per half-open round,
 *   N − 1 of them refused); with it the first instance probes within about stateCacheMs / N and the others mostly
 *   read HALF_OPEN and write nothing.
 * - every other state: `stateCacheMs`.
 *
 * Each duration is shortened by a random fraction up to `jitterRatio`, so the instances of a fleet that learned the
 * state together do not refresh it in lockstep (the average read rate rises by at most 1 / (1 - jitterRatio / 2)).
 */
import { unitInterval } from './backoff';
import type { CircuitStateName } from './events';

export interface RefreshSettings {
  stateCacheMs: number;
  closedStateCacheMs: number;
  jitterRatio: number;
}

/**
 * How long a record in `state` may be trusted after it was learned, ms; for OPEN, how long after its open period ends
 * (the per-instance probe delay).
 */
export function cacheDuration(state: CircuitStateName, settings: RefreshSettings, random: () => number): number {
  if (state === 'OPEN') return Math.floor(settings.stateCacheMs * unitInterval(random));
  const base = state === 'CLOSED' ? settings.closedStateCacheMs : settings.stateCacheMs;
  if (base === 0) return 0;
  return Math.max(1, Math.round(base * (1 - settings.jitterRatio * unitInterval(random))));
}
