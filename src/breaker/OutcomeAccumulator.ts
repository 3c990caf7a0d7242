/**
 * One instance's outcomes not yet written to the shared item: counter name (`s_<bucket>` / `f_<bucket>`) -> count.
 *
 * The rate policy needs successes counted fleet-wide, but a write per success would make the healthy path cost a
 * write per call. So each instance adds its outcomes here and flushes them in one atomic ADD (`recordCount`'s
 * `increments`) on a request it makes anyway (a failure write; the state refresh when its cache expires, once a
 * flush is due). Outcomes keep the bucket of the time they happened, so a late flush lands in the right bucket.
 *
 * A flush is taken out (`take`) before its request is sent and settled after (`settle`): an applied flush is done;
 * one that certainly wrote nothing is put back (nothing lost); one that may or may not have been applied (a
 * timeout) is dropped, not retried (counted twice is as wrong as lost); one refused because the circuit is no
 * longer counting (it opened) is dropped, as its closed period is over. Pure bookkeeping: no I/O, no timers, the
 * clock is passed in.
 *
 * @example
 * const pending = new OutcomeAccumulator({ countFlushMs: 20_000 });
 * pending.add(policy.counterFor('success', now), now);
 * if (pending.isFlushDue(now)) {
 *   const flush = pending.take(now, (names) => policy.staleCounters(...)); // then recordCount({ increments: flush.increments, ... })
 *   pending.settle(flush, result.applied ? 'applied' : 'periodEnded');
 * }
 */
import { BreakerConfigError } from './errors';
import { COUNTER_NAME } from './OpeningPolicy';

export interface OutcomeAccumulatorOptions {
  /**
   * The longest an outcome waits here before a flush is due, ms (integer >= 0; 0 = due at once). Every own flush is
   * a write to the item, so an instance makes at most one per countFlushMs: a fleet of N instances at most
   * N x 1000 / countFlushMs writes per second.
   */
  countFlushMs: number;
}

/** What one flush carries, taken out of the accumulator until it is settled. */
export interface PendingFlush {
  /** Counter name -> positive integer to ADD. Never empty. */
  readonly increments: Readonly<Record<string, number>>;
  /** When the oldest outcome in it happened (epoch ms), per counter; used to put it back as it was. */
  readonly since: Readonly<Record<string, number>>;
}

/**
 * How a flush's request ended:
 * - `applied`: the ADD was written.
 * - `notApplied`: certainly nothing was written and the counts still matter (throttled, or never sent because the
 *   store was just found unavailable): put back, to go with a later flush.
 * - `uncertain`: it may have been written (timed out, connection lost): dropped, never retried.
 * - `periodEnded`: the store refused it because the circuit is not counting (OPEN, HALF_OPEN, FORCED_OPEN): dropped.
 */
export type FlushResult = 'applied' | 'notApplied' | 'uncertain' | 'periodEnded';

/** Totals since construction, for metrics and tests. */
export interface AccumulatorStats {
  added: number;
  applied: number;
  restored: number;
  /** Dropped after an `uncertain` flush (may have been counted, may not). */
  uncertain: number;
  /** Dropped because their closed period ended (`periodEnded`, `discardBefore`, `clear`) or their bucket went stale. */
  discarded: number;
}

export class OutcomeAccumulator {
  readonly countFlushMs: number;
  private readonly counts = new Map<string, { count: number; since: number }>();
  private readonly totals: AccumulatorStats = { added: 0, applied: 0, restored: 0, uncertain: 0, discarded: 0 };

  /** @throws BreakerConfigError naming `countFlushMs` when it is not an integer from 0 to 24 h. */
  constructor(options: OutcomeAccumulatorOptions) {
    const countFlushMs = options?.countFlushMs;
    if (typeof countFlushMs !== 'number' || !Number.isInteger(countFlushMs) || countFlushMs < 0 || countFlushMs > 24 * 60 * 60 * 1000) {
      throw new BreakerConfigError('countFlushMs', `must be an integer from 0 to 86400000, got ${JSON.stringify(countFlushMs)}`);
    }
    this.countFlushMs = countFlushMs;
  }

  /**
   * Count `n` outcomes (default 1) under `counter` at `now`.
   * @throws TypeError when counter is not `^[fs]_\d+$` or n is not a positive safe integer (an opening policy's bug:
   *   it must not reach the store).
   */
  add(counter: string, now: number, n = 1): void {
    if (typeof counter !== 'string' || !COUNTER_NAME.test(counter)) throw new TypeError(`counter name must match ${COUNTER_NAME}, got ${JSON.stringify(counter)}`);
    if (!Number.isSafeInteger(n) || n < 1) throw new TypeError(`count must be a positive integer, got ${JSON.stringify(n)}`);
    this.merge(counter, n, now);
    this.totals.added += n;
  }

  /** Outcomes held now (not counting flushes in flight). */
  get pendingCount(): number {
    let sum = 0;
    for (const entry of this.counts.values()) sum += entry.count;
    return sum;
  }

  /** A copy of what is held: counter name -> count. */
  pending(): Record<string, number> {
    return Object.fromEntries([...this.counts].map(([name, entry]) => [name, entry.count]));
  }

  /**
   * Whether an own flush is due: something is held and its oldest outcome is countFlushMs old (either way: a clock
   * that jumped back must not hold counts forever). After a flush nothing older is held, so own flushes are at least
   * countFlushMs apart.
   */
  isFlushDue(now: number): boolean {
    const oldest = this.oldest();
    return oldest !== undefined && Math.abs(now - oldest) >= this.countFlushMs;
  }

  /** When the oldest outcome held happened (epoch ms), or undefined when nothing is held. */
  oldest(): number | undefined {
    let oldest: number | undefined;
    for (const entry of this.counts.values()) if (oldest === undefined || entry.since < oldest) oldest = entry.since;
    return oldest;
  }

  /**
   * Take everything held, for one write. `staleOf`, when given, names counters no longer worth writing (the
   * policy's `staleCounters` applied to the held counts at `now`); those are discarded, not sent (they would
   * recreate attributes the window has left). Returns undefined when nothing is left to send.
   */
  take(now: number, staleOf?: (held: Readonly<Record<string, number>>, now: number) => readonly string[]): PendingFlush | undefined {
    if (staleOf) {
      for (const name of staleOf(this.pending(), now)) {
        const entry = this.counts.get(name);
        if (!entry) continue;
        this.totals.discarded += entry.count;
        this.counts.delete(name);
      }
    }
    if (this.counts.size === 0) return undefined;
    const increments: Record<string, number> = {};
    const since: Record<string, number> = {};
    for (const [name, entry] of this.counts) {
      increments[name] = entry.count;
      since[name] = entry.since;
    }
    this.counts.clear();
    return { increments, since };
  }

  /** Settle a flush taken with `take` (see FlushResult). Each flush must be settled exactly once. */
  settle(flush: PendingFlush, result: FlushResult): void {
    const total = Object.values(flush.increments).reduce((sum, n) => sum + n, 0);
    switch (result) {
      case 'applied':
        this.totals.applied += total;
        return;
      case 'notApplied':
        for (const [name, n] of Object.entries(flush.increments)) this.merge(name, n, flush.since[name] ?? Number.POSITIVE_INFINITY);
        this.totals.restored += total;
        return;
      case 'uncertain':
        this.totals.uncertain += total;
        return;
      case 'periodEnded':
        this.totals.discarded += total;
        return;
      default:
        throw new TypeError(`unknown flush result ${JSON.stringify(result)}`);
    }
  }

  /**
   * Drop held counters that hold an outcome from before `closedAt` (the circuit closed since: its counts were
   * cleared, and outcomes of the period before must not be flushed into the new one). Conservative: a counter that
   * mixes outcomes from before and after is dropped whole. Returns how many outcomes were dropped.
   */
  discardBefore(closedAt: number): number {
    let dropped = 0;
    for (const [name, entry] of this.counts) {
      if (entry.since < closedAt) {
        dropped += entry.count;
        this.counts.delete(name);
      }
    }
    this.totals.discarded += dropped;
    return dropped;
  }

  /** Drop everything held (e.g. the circuit was seen not counting). Returns how many outcomes were dropped. */
  clear(): number {
    const dropped = this.pendingCount;
    this.counts.clear();
    this.totals.discarded += dropped;
    return dropped;
  }

  stats(): AccumulatorStats {
    return { ...this.totals };
  }

  private merge(name: string, n: number, since: number): void {
    const entry = this.counts.get(name);
    if (entry) {
      entry.count += n;
      entry.since = Math.min(entry.since, since);
    } else {
      this.counts.set(name, { count: n, since });
    }
  }
}
