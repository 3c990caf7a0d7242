/**
 * Writes the store throttled, sent again later: the hook between a throttled write and its retry. A throttled store
 * is not an outage (the fleet is busy writing the item), so a throttled write is neither dropped nor retried at once:
 * it waits throttleRetryDelay(attempt) (exponential, with jitter) and is sent again, until the store answers (applied
 * or refused: either way the instance learns the item) or MAX_THROTTLED_RETRIES retries were throttled too (then it is
 * given up, reported by the store client's storeError events).
 *
 * One retry per key at a time: a write throttled while its key is already waiting merges into it (`merge`, e.g. two
 * failure counts become one ADD 2) or is dropped as a duplicate (the same transition). A write marked `hold` (a
 * failure count, the opening or reopening it leads to) makes `holdFor` positive until it is answered: the instance
 * rejects calls meanwhile instead of sending more of them to a downstream that is failing fleet-wide.
 */
import { classifyStoreError } from './storeErrors';
import { MAX_THROTTLED_RETRIES, throttleRetryDelay } from './throttleBackoff';

/** Starts a timer; returns its cancel function. Injected in tests (no real time passes there). */
export type Schedule = (run: () => void, delayMs: number) => () => void;

export const realSchedule: Schedule = (run, delayMs) => {
  const timer = setTimeout(run, delayMs);
  // A pending retry never keeps a process (or a test) alive on its own.
  timer.unref?.();
  return () => clearTimeout(timer);
};

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
  cancel: () => void;
}

export class ThrottledWrites {
  private readonly waiting = new Map<string, Waiting>();
  /** Retries sent and not answered yet (a held one still holds calls). */
  private readonly inFlight = new Set<Waiting>();

  constructor(
    private readonly now: () => number,
    private readonly random: () => number,
    private readonly schedule: Schedule = realSchedule,
  ) {}

  /** A write of `key` was throttled: send it again later (merged into one already waiting for that key). */
  retryLater<P>(key: string, write: ThrottledWrite<P>, attempt = 0): void {
    const existing = this.waiting.get(key);
    if (existing) {
      const merge = write.merge;
      if (merge) existing.write.payload = merge(existing.write.payload as P, write.payload);
      existing.write.hold ||= write.hold;
      existing.attempt = Math.max(existing.attempt, attempt);
      return;
    }
    const delay = throttleRetryDelay(attempt, this.random);
    const entry: Waiting = { write: write as ThrottledWrite<unknown>, attempt, dueAt: this.now() + delay, cancel: () => undefined };
    entry.cancel = this.schedule(() => void this.fire(key, entry), delay);
    this.waiting.set(key, entry);
  }

  /** How long calls should wait for a held write's retry, ms (0: nothing held). */
  holdFor(now: number): number {
    let due = 0;
    for (const entry of [...this.waiting.values(), ...this.inFlight]) if (entry.write.hold) due = Math.max(due, entry.dueAt - now, 1);
    return due;
  }

  /** Keys waiting for a retry (for tests and snapshots). */
  keys(): string[] {
    return [...this.waiting.keys()];
  }

  /** Drop every waiting retry. */
  clear(): void {
    for (const entry of this.waiting.values()) entry.cancel();
    this.waiting.clear();
  }

  private async fire(key: string, entry: Waiting): Promise<void> {
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
      // Any other error (or too many throttles): given up; the store client reported it as a storeError event.
    } finally {
      this.inFlight.delete(entry);
    }
  }
}
