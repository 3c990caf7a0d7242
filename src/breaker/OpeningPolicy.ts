/**
 * The decision of when a closed circuit opens, kept apart from the rest of the breaker so another counting policy
 * (say, a failure rate over a minimum number of calls) can be added without touching the state machine or the stores.
 *
 * A policy works on named numeric counters that live in the shared state item as top-level attributes, each named
 * `f_<n>` (failures) or `s_<n>` (successes). The stores only ever change a counter with an atomic ADD, so the policy
 * decides which counter an outcome goes to and when counters are stale, never the counts themselves.
 */
export type CountedOutcome = 'success' | 'failure';

export interface OpeningPolicy {
  /** The counter to add 1 to for this outcome at `now`, or undefined when the outcome need not be stored at all. */
  counterFor(outcome: CountedOutcome, now: number): string | undefined;
  /** Counters that no longer matter at `now` and may be removed from the item. Never the one `counterFor` returns. */
  staleCounters(counters: Readonly<Record<string, number>>, now: number): string[];
  /** Whether these counts, at `now`, call for the circuit to open. */
  shouldOpen(counters: Readonly<Record<string, number>>, now: number): boolean;
  /** Failures that count at `now` (reported in snapshots). */
  failuresInWindow(counters: Readonly<Record<string, number>>, now: number): number;
}

/** Counter attribute names: a one-letter kind, an underscore, a non-negative integer (e.g. a bucket's start, epoch ms). */
export const COUNTER_NAME = /^[fs]_(\d+)$/;
