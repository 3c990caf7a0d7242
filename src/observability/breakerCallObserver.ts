/**
 * Attributes the breaker's events to the call that caused them, so a request's log line and trace can say in
 * which state its call was admitted and how it ended. One subscription per container; AsyncLocalStorage keeps
 * concurrent calls apart (events are emitted in the async context of the call that caused them).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import type { BreakerEvent, BreakerEventListener, CircuitStateName } from '../breaker';

export type BreakerCallOutcome = 'success' | 'failure' | 'ignored' | 'slow' | 'timeout' | 'rejected';

export interface ObservedCall<T> {
  settled: { ok: true; value: T } | { ok: false; error: unknown };
  /** From the breaker's own event when one was seen, else undefined. */
  outcome?: BreakerCallOutcome;
  /** The state the call was admitted (or rejected) in. */
  state?: CircuitStateName | 'STORE_UNAVAILABLE';
  /** Set when this call's failure opened the circuit: when it may next be probed (epoch ms). */
  openUntil?: number;
  latencyMs: number;
}

interface CallRecord {
  outcome?: BreakerCallOutcome;
  state?: CircuitStateName | 'STORE_UNAVAILABLE';
  openUntil?: number;
}

export class BreakerCallObserver {
  readonly #current = new AsyncLocalStorage<CallRecord>();

  /** `subscribe` is the breaker's `onEvent`. */
  constructor(subscribe: (listener: BreakerEventListener) => unknown) {
    subscribe((event) => this.#record(event));
  }

  /** Runs `call` (a `breaker.execute(...)`), never throws: the error comes back in `settled`. */
  async observe<T>(call: () => Promise<T>): Promise<ObservedCall<T>> {
    const record: CallRecord = {};
    const started = performance.now();
    const settled = await this.#current.run(record, async (): Promise<ObservedCall<T>['settled']> => {
      try {
        return { ok: true, value: await call() };
      } catch (error) {
        return { ok: false, error };
      }
    });
    return { settled, ...record, latencyMs: Math.round(performance.now() - started) };
  }

  #record(event: BreakerEvent): void {
    const record = this.#current.getStore();
    if (record === undefined) return;
    if (event.type === 'callCompleted') {
      record.outcome = event.outcome;
      record.state = event.state;
    } else if (event.type === 'rejected') {
      record.outcome = 'rejected';
      record.state = event.state;
    } else if (event.type === 'stateChange' && event.to === 'OPEN' && event.openUntil !== undefined) {
      record.openUntil = event.openUntil;
    }
  }
}
