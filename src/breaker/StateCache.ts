/** What one instance last learned of the shared state, and whether it may still trust it. */
import type { CircuitStateName } from './events';
import type { CircuitRecord } from './state';

export class StateCache {
  private cached?: { record: CircuitRecord; at: number; receivedSeq: number; trustMs: number };
  private seq = 0;
  /** The latest time this instance's clock showed; a clock reading below it means the clock stepped back. */
  private latestNow = Number.NEGATIVE_INFINITY;

  /** @param trustMs how long a record in a state may be trusted once learned (refreshSchedule.ts: per state, with jitter). */
  constructor(private readonly trustMs: (state: CircuitStateName) => number) {}

  /** A sequence number for a request about to be sent (see learn). */
  issue(): number {
    return ++this.seq;
  }

  /**
   * The cached record if it may be trusted at `now`: an OPEN one until its open period ends and this instance's probe
   * delay after it (then a read says whether it is still OPEN), any other for its trust duration (closedStateCacheMs or stateCacheMs, jittered). Nothing is trusted after the clock moved backwards:
   * an OPEN learned an hour "in the future" would otherwise keep rejecting after the fleet closed.
   */
  current(now: number): CircuitRecord | undefined {
    if (now < this.latestNow) this.cached = undefined;
    this.latestNow = Math.max(this.latestNow, now);
    const cached = this.cached;
    if (cached === undefined) return undefined;
    // OPEN: trusted until its period ends plus this instance's probe delay (refreshSchedule.ts).
    if (cached.record.state === 'OPEN') return now < (cached.record.openUntil ?? 0) + cached.trustMs ? cached.record : undefined;
    return now - cached.at < cached.trustMs ? cached.record : undefined;
  }

  /** The last record learned, however old (what a count write's stale-counter cleanup works from). */
  latest(): CircuitRecord | undefined {
    return this.cached?.record;
  }

  /**
   * Cache what the store just said, unless it is older than what is cached: responses to concurrent requests can
   * arrive out of order, and a late CLOSED must not overwrite the OPEN that replaced it (versions only grow). A
   * response to a request sent after the cached one arrived is newer whatever its version (e.g. a deleted item).
   */
  learn(record: CircuitRecord, issuedSeq: number, now: number): void {
    const cached = this.cached;
    const receivedSeq = ++this.seq;
    if (cached && (record.version ?? -1) < (cached.record.version ?? -1) && issuedSeq < cached.receivedSeq) return;
    this.cached = { record, at: now, receivedSeq, trustMs: this.trustMs(record.state) };
  }
}
