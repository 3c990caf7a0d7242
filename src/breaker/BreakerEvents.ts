/** Delivers a breaker's events to its listeners. A listener can never break, hang or reorder a call. */
import type { BreakerEvent, BreakerEventListener } from './events';

export class BreakerEvents {
  private readonly listeners = new Set<BreakerEventListener>();

  /** Subscribe; returns the unsubscribe function. */
  subscribe(listener: BreakerEventListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('onEvent() needs a function');
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: BreakerEvent): void {
    // A snapshot: a listener added during delivery gets the next event, not this one (as Node's EventEmitter), so a
    // listener that re-subscribes itself cannot keep this loop going forever.
    for (const listener of [...this.listeners]) {
      try {
        const returned: unknown = listener(event);
        // An async listener's rejection must not surface as an unhandled rejection either.
        if (returned instanceof Promise) returned.catch(() => undefined);
      } catch {
        // A listener is observability; it never breaks a call.
      }
    }
  }
}
