/**
 * Writes the store throttled, sent again later: the hook between a throttled write and its retry. A throttled store
 * is not an outage (the fleet is busy writing the item), so a throttled write is neither dropped nor retried at once:
 * it becomes due throttleRetryDelay(attempt) later (exponential, with jitter), and the instance's next call after that
 * sends it (`runDue`, awaited by the call before it is decided), until the store answers (applied or refused: either
 * way the instance learns the item) or MAX_THROTTLED_RETRIES retries were throttled too (then it is given up, reported
 * by the store client's storeError events).
 *
 * Retries ride on calls, not timers: a Lambda container is frozen between invocations, so a timer would fire only at
 * the next invocation anyway, and an instance with no calls has nothing to protect. Nothing runs in the background.
 *
 * One retry per key at a time: a write throttled while its key is already waiting merges into it (`merge`, e.g. two
 * failure counts become one ADD 2) or is dropped as a duplicate (the same transition). A write marked `hold` (a
 * failure count, the opening or reopening it leads to) makes `holdFor` positive until it is answered: the instance
 * rejects calls meanwhile instead of sending more of them to a downstream that is failing fleet-wide.
 */
import { classifyStoreError } from './storeErrors';
import { MAX_THROTTLED_RETRIES, throttleRetryDelay } from './throttleBackoff';

export interface ThrottledWrite<P> {
  /** What is to be written (e.g. the increments of a count); merged with a later write of the same key. */
  payload: P;
  /** Sends the write; throws the store's error (a throttled one is retried). */
  send: (payload: P) => Promise<unknown>;
  /** Combine a waiting payload with a new one (absent: the new write is a duplicate of the waiting one). */
  merge?: (waiting: P, added: P) => P;
  /** Reject calls while this waits (see holdFor). */
  hold: boolean;
}

interface Waiting {
  write: ThrottledWrite<unknown>;
  attempt: number;
  dueAt: number;
}

export class ThrottledWrites {
  private readonly waiting = new Map<string, Waiting>();
  /** Retries sent and not answered yet (a held one still holds calls). */
  private readonly inFlight = new Set<Waiting>();
  private running?: Promise<void>;

  constructor(
    private readonly now: () => number,
    private readonly random: () => number,
  ) {}

  /** A write of `key` was throttled: send it again later (merged into one already waiting for that key). */
  retryLater<P>(key: string, write: ThrottledWrite<P>, attempt = 0): void {
    const existing = this.waiting.get(key);
    if (existing) {
      const merge = write.merge;
      if (merge) existing.write.payload = merge(existing.write.payload as P, write.payload);
      existing.write.hold ||= write.hold;
      // A retry throttled again while a newer write of its key waits: the later backoff step wins.
      if (attempt > existing.attempt) {
        existing.attempt = attempt;
        existing.dueAt = Math.max(existing.dueAt, this.now() + throttleRetryDelay(attempt, this.random));
      }
      return;
    }
    this.waiting.set(key, { write: write as ThrottledWrite<unknown>, attempt, dueAt: this.now() + throttleRetryDelay(attempt, this.random) });
  }

  /** How long calls should wait for a held write's retry, ms (0: nothing held). */
  holdFor(now: number): number {
    let due = 0;
    for (const entry of [...this.waiting.values(), ...this.inFlight]) if (entry.write.hold) due = Math.max(due, entry.dueAt - now, 1);
    return due;
  }

  /** When the next retry is due (epoch ms), or undefined when none waits. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const entry of this.waiting.values()) next = next === undefined ? entry.dueAt : Math.min(next, entry.dueAt);
    return next;
  }

  /** Keys waiting for a retry (for tests and snapshots). */
  keys(): string[] {
    return [...this.waiting.keys()];
  }

  /**
   * Send every retry due at `now` (concurrent callers share one run). Never rejects: a throttled retry waits again,
   * with the next backoff step; any other error gives it up (the store client reported it).
   */
  runDue(now: number): Promise<void> {
    const due = [...this.waiting.entries()].filter(([, entry]) => entry.dueAt <= now);
    if (due.length === 0) return this.running ?? Promise.resolve();
    const run = Promise.all(due.map(([key, entry]) => this.send(key, entry))).then(() => undefined);
    const shared = (this.running ? Promise.all([this.running, run]).then(() => undefined) : run).finally(() => {
      if (this.running === shared) this.running = undefined;
    });
    this.running = shared;
    return shared;
  }

  private async send(key: string, entry: Waiting): Promise<void> {
    if (this.waiting.get(key) !== entry) return;
    // Sent now: writes throttled meanwhile wait in a new entry of their own.
    this.waiting.delete(key);
    this.inFlight.add(entry);
    try {
      await entry.write.send(entry.write.payload);
    } catch (error) {
      if (classifyStoreError(error) === 'throttled' && entry.attempt + 1 < MAX_THROTTLED_RETRIES) {
        this.retryLater(key, entry.write, entry.attempt + 1);
      }
    } finally {
      this.inFlight.delete(entry);
    }
  }
}
