/**
 * One instance's count writes. Outcomes of closed (and disabled) calls go into an OutcomeAccumulator, and at most
 * ONE count write per instance is in flight at a time: outcomes that arrive meanwhile wait and go together in the
 * next write, one `recordCount` whose `increments` ADD each counter's total (a burst of failures at an outage's
 * onset is one write per instance per round trip, not one per failure).
 *
 * - A failure is written at once (or in the next write, when one is in flight); the write carries every outcome held.
 * - A success (only a policy that stores them: the rate policy) is held. It goes with the next failure write, or with
 *   the state refresh once the oldest held outcome is countFlushMs old (the refresh is then this write, which
 *   returns the item): no request while the cache is fresh, at most one per refresh on the healthy path.
 * - A write that certainly wrote nothing (throttled, or not sent in the store's cooldown) puts its counts back for the
 *   next write; one that may have been applied (a timeout) is dropped, never retried; one refused because the period
 *   it was counted in ended (the circuit opened, or closed again since) is dropped. Nothing is counted twice.
 *
 * What follows a write (repair, open, restoring an override) is decided by decisions.ts (afterCount) and carried out
 * through the host (CircuitBreaker), as for every other write.
 */
import { afterCount, staleCountersToRemove, type AfterCount } from './decisions';
import { StoreItemTooLargeError } from './errors';
import type { BreakerEvent } from './events';
import type { BreakerSettings } from './options';
import type { CallOutcome } from './outcome';
import { OutcomeAccumulator, type FlushResult } from './OutcomeAccumulator';
import type { StateCache } from './StateCache';
import { emptyRecord, type CircuitRecord } from './state';
import type { TransitionRequest, WriteOutcome } from './store/StateStore';
import { certainlyNotApplied, type StoreClient } from './StoreClient';
import { itemExpiry } from './transitions';

/** What CountRecorder needs from the breaker that owns it. */
export interface CountRecorderHost {
  readonly name: string;
  readonly settings: BreakerSettings;
  readonly store: StoreClient;
  readonly cache: StateCache;
  repair(request: TransitionRequest, problems: string[]): Promise<WriteOutcome>;
  transition(from: CircuitRecord, request: TransitionRequest, reason: string): Promise<WriteOutcome>;
  /**
   * The opening a stored count led to. Never rejects: undefined when it was not written now (throttled: the host
   * retries it later; another store error: reported). The count stands either way.
   */
  openAfterCount(from: CircuitRecord, request: TransitionRequest, reason: string): Promise<WriteOutcome | undefined>;
  /** A count write failed; what certainly was not written has been put back (issue 11: throttled -> retried later). */
  countNotWritten(error: unknown, increments: Readonly<Record<string, number>>): Promise<void>;
  /** The item is too large to update: rewrite it whole as a closed item; resolves to its new version. */
  repairTooLarge(): Promise<number | null>;
  emit(event: BreakerEvent): void;
}

/** How one write went, shared by every outcome it carried. */
interface WriteReport {
  /** The item after the write (or the one that refused it); absent when nothing was sent or the store failed. */
  record?: CircuitRecord;
  /** The write was refused because the period its outcomes were counted in had ended. */
  discarded: boolean;
  /** Set when the write's result opened the circuit; given to the first waiter that claims it. */
  openUntil?: number;
  claimed?: boolean;
  /** The store failed (already reported as a storeError event). */
  error?: unknown;
}

/** A period's version as a count condition: null (no valid version yet) and 0 (first created by a count) are one period. */
const rank = (version: number | null): number => version ?? 0;

/** Closed-path store requests one count write may take: count, repair, count again, open. */
const WRITES_PER_COUNT = 4;

export class CountRecorder {
  private readonly pending: OutcomeAccumulator;
  /** The period (version) the held outcomes were admitted in; undefined: none known (admitted while the store was down). */
  private heldVersion: number | null | undefined;
  private inFlight?: Promise<WriteReport>;
  /** The first answer (the item) of the write in flight: what a refresh waits for, not the writes that follow it. */
  private firstAnswer?: Promise<CircuitRecord | undefined>;
  private queued?: Promise<WriteReport>;

  constructor(private readonly host: CountRecorderHost) {
    this.pending = new OutcomeAccumulator({ countFlushMs: host.settings.countFlushMs });
  }

  /** What is held and what happened to it so far (for tests and metrics). */
  stats() {
    return { ...this.pending.stats(), pending: this.pending.pendingCount, writing: this.inFlight !== undefined };
  }

  /**
   * Count one closed or disabled call's outcome. Resolves to openUntil when the write carrying it opened the circuit
   * (and this caller is the first to claim it). A held success resolves at once. Never rejects.
   *
   * A caller whose outcome waits behind a write in flight waits at most one count's store budget for its own
   * write (that write still completes and is settled in the background), so a call's worst case is unchanged.
   */
  async count(counted: 'success' | 'failure', outcome: CallOutcome, admittedVersion: number | null | undefined): Promise<number | undefined> {
    const { settings } = this.host;
    const now = settings.now();
    const counter = settings.openingPolicy.counterFor(counted, now);
    if (counter === undefined) return undefined; // healthy calls of the count policy store nothing
    if (!this.adopt(admittedVersion)) {
      // Admitted in a period older than the one whose outcomes are held: that period has ended.
      this.discarded(outcome);
      return undefined;
    }
    this.pending.add(counter, now);
    if (counted === 'success') return undefined;

    const joined = this.inFlight !== undefined;
    const write = this.flush();
    const report = joined ? await withinBudget(write, WRITES_PER_COUNT * settings.storeTimeoutMs * settings.storeMaxAttempts) : await write;
    if (report === undefined) return undefined;
    if (report.discarded) this.discarded(outcome);
    if (report.openUntil !== undefined && !report.claimed) {
      report.claimed = true;
      return report.openUntil;
    }
    return undefined;
  }

  /**
   * Write what is held now (the retry of a throttled count write; see CircuitBreaker.retryHeldCounts). Resolves to
   * the store's error when the write failed (the counts it certainly did not write are held again), else undefined.
   */
  async flushHeld(): Promise<unknown> {
    const report = await this.flush();
    return report.error;
  }

  /**
   * Whether the next state refresh should carry the held outcomes (the oldest is countFlushMs old) rather than be a
   * read. Held outcomes of a period known to have ended (the item is no longer counting) are dropped here.
   */
  flushDueAt(now: number): boolean {
    const latest = this.host.cache.latest();
    if (latest !== undefined && !counting(latest)) {
      this.pending.clear();
      this.heldVersion = undefined;
      return false;
    }
    return this.pending.isFlushDue(now);
  }

  /**
   * The state refresh as a flush: write what is held and answer the item the write returned, as soon as it returns
   * (a repair or opening it leads to goes on meanwhile, so a refresh costs a call one request, as a read does). A
   * write already in flight answers for it. Undefined when nothing was sent (nothing left to write).
   * @throws StateStoreError when the store failed (as a read would).
   */
  async refresh(): Promise<CircuitRecord | undefined> {
    if (this.inFlight === undefined) void this.flush();
    return this.firstAnswer;
  }

  // ---- writes ---------------------------------------------------------------------------------------------------

  /** The write that will carry what is held now: a new one, or the one queued behind the write in flight. */
  private flush(): Promise<WriteReport> {
    if (this.queued) return this.queued;
    const start = (): Promise<WriteReport> => {
      this.queued = undefined;
      let answered!: (record: CircuitRecord | undefined) => void;
      let failed!: (error: unknown) => void;
      this.firstAnswer = new Promise<CircuitRecord | undefined>((resolve, reject) => {
        answered = resolve;
        failed = reject;
      });
      this.firstAnswer.catch(() => undefined); // a refresh that waits on it handles the error; nobody else must
      const write = this.writeHeld(answered).then((report) => {
        if (report.error !== undefined) failed(report.error);
        else answered(report.record);
        return report;
      });
      void write.finally(() => {
        if (this.inFlight === write) this.inFlight = undefined;
      });
      this.inFlight = write;
      return write;
    };
    if (this.inFlight === undefined) return start();
    const queued = this.inFlight.then(start, start);
    this.queued = queued;
    return queued;
  }

  /** One write of everything held, then what it leads to. Settles the flush exactly once. Never rejects. */
  private async writeHeld(answered: (record: CircuitRecord) => void): Promise<WriteReport> {
    const { settings } = this.host;
    const now = settings.now();
    const version = this.heldVersion;
    // Held counts whose bucket left the window are dropped: writing them would recreate attributes nobody counts.
    const flush = this.pending.take(now, (held, at) => settings.openingPolicy.staleCounters(held, at));
    this.heldVersion = undefined;
    if (flush === undefined) return { discarded: false };
    let settled: FlushResult | undefined = 'uncertain';
    // Set once a count write answered: applied, or refused (its period ended). An error after that belongs to what
    // followed the write (a repair, restoring an override), never to the counts: they are neither put back (they
    // would be counted twice) nor handed on as not written.
    let written: FlushResult | undefined;
    try {
      const report = await this.send(flush.increments, now, version, answered, (applied) => {
        written = applied ? 'applied' : 'periodEnded';
      });
      settled = report.discarded ? 'periodEnded' : 'applied';
      return report;
    } catch (error) {
      if (written !== undefined) {
        settled = written;
        return { discarded: false, error };
      }
      settled = certainlyNotApplied(error) ? 'notApplied' : 'uncertain';
      if (settled === 'notApplied' && !this.adopt(version)) settled = 'periodEnded';
      this.pending.settle(flush, settled);
      settled = undefined;
      await this.host.countNotWritten(error, flush.increments);
      return { discarded: false, error };
    } finally {
      if (settled !== undefined) this.pending.settle(flush, settled);
    }
  }

  /** recordCount with these increments, then repair / open / restore as afterCount decides. Throws store errors. */
  private async send(
    increments: Readonly<Record<string, number>>,
    now: number,
    admittedVersion: number | null | undefined,
    answered: (record: CircuitRecord) => void,
    wrote: (applied: boolean) => void,
  ): Promise<WriteReport> {
    const host = this.host;
    const { settings } = host;
    const write = (admitted: number | null | undefined) => {
      const known = host.cache.latest() ?? emptyRecord(host.name);
      const staleCounters = staleCountersToRemove(known, increments, now, settings);
      // A count keeps a closed item from expiring while its window is live; a disabled one never expires.
      const expiry = itemExpiry(known.state === 'DISABLED' ? 'DISABLED' : 'CLOSED', now, settings);
      const request = { increments: { ...increments }, staleCounters, now, ...expiry, ...(admitted === undefined ? {} : { admittedVersion: admitted }) };
      return host.store
        .call('recordCount', 'ifNotApplied', (abortSignal) => settings.store.recordCount(host.name, request, { abortSignal }))
        .then((outcome) => {
          wrote(outcome.applied);
          return outcome;
        });
    };

    let result: WriteOutcome;
    try {
      result = await write(admittedVersion);
    } catch (error) {
      // An item too large to write would refuse every later count too: rewrite it as a closed item, count again once.
      if (!(error instanceof StoreItemTooLargeError)) throw error;
      result = await write(await host.repairTooLarge());
    }
    answered(result.record);
    let next: AfterCount = afterCount(result, now, settings, admittedVersion);
    if (next.kind === 'countAgain') {
      result = await write(next.version);
      next = afterCount(result, now, settings);
    }
    if (next.kind === 'repair') {
      const repaired = await host.repair(next.request, next.problems);
      // A repair is not a new period: the count goes into the repaired item (at most one repair per count).
      if (next.countAgain) result = await write(repaired.record.version);
      else result = { applied: true, record: repaired.record };
      next = afterCount(result, now, settings);
    }
    switch (next.kind) {
      case 'open': {
        // The count is stored: a failure of the opening (throttled: retried later by the host) is not the count's.
        const opened = await host.openAfterCount(result.record, next.request, next.request.opening?.openReason ?? 'failureThreshold');
        if (opened === undefined) return { record: result.record, discarded: false };
        return { record: opened.record, discarded: false, ...(opened.applied ? { openUntil: next.request.openUntil } : {}) };
      }
      case 'restoreOverride': {
        const restored = await host.store.call('transition', 'always', (abortSignal) => settings.store.transition(host.name, next.request, { abortSignal }));
        return { record: restored.record, discarded: false };
      }
      case 'discarded':
        return { record: result.record, discarded: true };
      default:
        return { record: result.record, discarded: false };
    }
  }

  // ---- periods --------------------------------------------------------------------------------------------------

  /**
   * Whether an outcome admitted at `version` may join what is held. A newer period than the held one drops the held
   * outcomes (their period ended); an older one is refused. No version (admitted while the store was down) joins any.
   */
  private adopt(version: number | null | undefined): boolean {
    if (version === undefined) return true;
    if (this.heldVersion === undefined || this.pending.pendingCount === 0) {
      this.heldVersion = version;
      return true;
    }
    const held = this.heldVersion;
    if (rank(version) < rank(held)) return false;
    if (rank(version) > rank(held)) this.pending.clear();
    // null's condition ("no valid version, or 0") covers 0's, so a mix of the two keeps null.
    this.heldVersion = rank(version) === rank(held) && (held === null || version === null) ? null : version;
    return true;
  }

  private discarded(outcome: CallOutcome): void {
    const { name, settings } = this.host;
    this.host.emit({ type: 'outcomeDiscarded', circuit: name, outcome, reason: 'periodEnded', at: settings.now() });
  }
}

/** Whether the item counts outcomes (as the stores' recordCount condition says). */
function counting(record: CircuitRecord): boolean {
  return record.state === 'CLOSED' || record.state === 'DISABLED';
}

/** The write's report, or undefined when it takes longer than `budgetMs` (it still completes in the background). */
async function withinBudget(write: Promise<WriteReport>, budgetMs: number): Promise<WriteReport | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), budgetMs);
  });
  try {
    return await Promise.race([write, late]);
  } finally {
    clearTimeout(timer);
  }
}
