/**
 * One instance's own circuit, for while the shared store cannot answer (`onStoreError: 'local'`): the same policy
 * (counts in the window, open period with backoff and jitter, trials) run by the same decisions on a record in this
 * instance's memory, so a dead downstream is still cut off per instance when the breaker table is unreachable.
 *
 * It is a second breaker on a MemoryStateStore (the same executor, the same pure decisions), with at most one trial at
 * a time and no cache. Its state is this instance's alone.
 *
 * Entering and leaving (CircuitBreaker decides when; see docs/breaker.md, "Protection without the store"):
 * - Entering with the local circuit CLOSED clears its counts: counts of an earlier episode are stale evidence. An OPEN
 *   (or half-open) local circuit is kept, so its backoff goes on where it stopped.
 * - Leaving discards nothing at once, but local counts are never written to the shared item: the shared item is the
 *   authority once it answers, and a bulk write of an outage's failures could open the shared circuit for a
 *   downstream that has healed since (and some may have reached the store already, in writes that timed out).
 *   Since a local circuit that reached its threshold is OPEN, at most threshold − 1 failures per instance are dropped.
 * - A locally OPEN instance keeps rejecting until its local open period ends even if the shared item reads CLOSED
 *   (`localOpenFor`): the shared item did not see the failures this instance saw (they could not be written), so its
 *   CLOSED is no evidence the downstream is back. A shared OPEN or FORCED_OPEN rejects anyway, and an operator's
 *   DISABLED is obeyed at once (an explicit order outranks local evidence).
 */
import { afterCount, staleCountersToRemove } from './decisions';
import type { BreakerEvent, CircuitStateName } from './events';
import { resolveOptions, type BreakerSettings, type CircuitBreakerOptions } from './options';
import { parseItem, type CircuitRecord } from './state';
import { MemoryStateStore } from './store/MemoryStateStore';

/** What LocalCircuit needs of a breaker (CircuitBreaker, injected to keep the import graph acyclic). */
export interface LocalBreaker {
  execute<T>(fn: (signal: AbortSignal) => Promise<T>, options?: { signal?: AbortSignal; onSettled?: (details: never) => void }): Promise<T>;
  onEvent(listener: (event: BreakerEvent) => void): () => void;
}

const NO_ABORT = { abortSignal: new AbortController().signal };

export class LocalCircuit {
  readonly store = new MemoryStateStore();
  private readonly breaker: LocalBreaker;
  private readonly settings: BreakerSettings;
  private readonly name: string;

  /**
   * @param options the shared breaker's options (its clock, random, policy and timings are reused)
   * @param create makes the inner breaker (CircuitBreaker's constructor)
   * @param emit where the inner breaker's events go: its state changes become `localStateChange` events
   */
  constructor(options: CircuitBreakerOptions, create: (options: CircuitBreakerOptions) => LocalBreaker, private readonly emit: (event: BreakerEvent) => void) {
    const local: CircuitBreakerOptions = {
      ...options,
      store: this.store,
      // One trial at a time: an instance probing alone needs no more.
      halfOpenMaxCalls: 1,
      halfOpenSuccessThreshold: Math.min(options.halfOpenSuccessThreshold ?? 2, 2),
      // In memory every read is free and exact, and every count lands at once: nothing to hold or flush (a rate
      // policy's flush lag would otherwise delay the local opening by 2 x countFlushMs).
      stateCacheMs: 0,
      closedStateCacheMs: 0,
      ...(options.failureRateThreshold === undefined ? {} : { countFlushMs: 0 }),
      // Memory never fails; 'deny' keeps the inner breaker from ever needing a local circuit of its own.
      onStoreError: 'deny',
      itemTtlMs: 0,
    };
    this.settings = resolveOptions(local);
    this.name = this.settings.name;
    this.breaker = create(local);
    this.breaker.onEvent((event) => {
      if (event.type === 'stateChange') this.emit({ ...event, type: 'localStateChange' });
      else if (event.type === 'callCompleted' || event.type === 'rejected' || event.type === 'outcomeDiscarded') this.emit(event);
    });
  }

  /** Run a call on the local state (admission, timeout, outcome), exactly as the shared breaker would. */
  execute<T>(fn: (signal: AbortSignal) => Promise<T>, options: { signal?: AbortSignal; onSettled?: (details: never) => void }): Promise<T> {
    return this.breaker.execute(fn, options);
  }

  /** The local state now (a copy). */
  record(): CircuitRecord {
    return parseItem(this.name, this.store.rawItem(this.name));
  }

  /** Entering local mode: a CLOSED local circuit starts with no counts (an OPEN or HALF_OPEN one carries on). */
  enter(): void {
    if (this.record().state === 'CLOSED') this.store.putRawItem(this.name, undefined);
  }

  /** How much longer the local circuit is OPEN (ms), 0 when it is not. */
  localOpenFor(now: number): number {
    const record = this.record();
    return record.state === 'OPEN' && record.openUntil !== undefined && record.openUntil > now ? record.openUntil - now : 0;
  }

  /**
   * Count the outcome of a call the shared state admitted but whose count the store could not take: the local policy
   * counts it, and opens the local circuit when it reaches the threshold.
   */
  async recordOutcome(counted: 'success' | 'failure'): Promise<CircuitStateName> {
    const now = this.settings.now();
    const record = this.record();
    if (record.state !== 'CLOSED') return record.state;
    const counter = this.settings.openingPolicy.counterFor(counted, now);
    if (counter === undefined) return record.state;
    const increments = { [counter]: 1 };
    const result = await this.store.recordCount(this.name, { increments, staleCounters: staleCountersToRemove(record, increments, now, this.settings), now }, NO_ABORT);
    const next = afterCount(result, now, this.settings);
    if (next.kind !== 'open') return result.record.state;
    const opened = await this.store.transition(this.name, next.request, NO_ABORT);
    if (opened.applied) {
      // The event the inner breaker emits for an opening it makes itself.
      this.emit({ type: 'localStateChange', circuit: this.name, from: 'CLOSED', to: 'OPEN', reason: 'failureThreshold', at: now, ...(next.request.openUntil === undefined ? {} : { openUntil: next.request.openUntil }) });
    }
    return opened.record.state;
  }
}
