/**
 * Runs calls through a circuit whose state is shared by every instance using the same store and name.
 *
 * This class only orchestrates I/O: it asks decisions.ts what a state allows and what an outcome does, sends the
 * writes transitions.ts builds through its StoreClient (budget, cooldown), keeps what it learns in its StateCache,
 * runs the call with runCall (timeout, caller cancellation) and reports through BreakerEvents.
 */
import { randomUUID } from 'node:crypto';
import { BreakerEvents } from './BreakerEvents';
import { CountRecorder } from './CountRecorder';
import {
  admissionFor,
  afterTrialSuccess,
  boundedRecord,
  holds,
  outcomeAction,
  outcomeOf,
  overrideRequest,
  permitRequest,
  refusesCounts,
  trialFailedTransition,
  type Override,
  type Settled,
} from './decisions';
import { CircuitOpenError, OverrideContentionError, StoreItemTooLargeError } from './errors';
import { LocalCircuit } from './LocalCircuit';
import { cacheDuration } from './refreshSchedule';
import { classifyStoreError } from './storeErrors';
import { ThrottledWrites } from './ThrottledWrites';
import { ThrottleGate } from './throttleBackoff';
import type { BreakerEvent, BreakerEventListener, BreakerMode, CircuitStateName, RejectionState } from './events';
import { resolveOptions, type BreakerSettings, type CircuitBreakerOptions } from './options';
import type { CallDetails, CallOutcome } from './outcome';
import { runCall, cancellationError } from './runCall';
import { snapshotOf, type CircuitSnapshot } from './snapshot';
import { StateCache } from './StateCache';
import { emptyRecord, type CircuitRecord, type PermitLease } from './state';
import type { PermitRef, TransitionRequest, WriteOutcome } from './store/StateStore';
import { StoreClient } from './StoreClient';
import { openTransition, repairTransition } from './transitions';

/** Options of one `execute` call. */
export interface ExecuteOptions {
  /**
   * The caller's cancellation: when it aborts, `fn`'s signal is aborted and `execute` rejects at once with the
   * signal's reason (when an Error) or a CallCancelledError. A cancelled call counts neither way and gives back the
   * trial permit it held. Already aborted: `fn` is not called.
   */
  signal?: AbortSignal;
  /**
   * Told how the call went (outcome, the state it ran in, whether it opened the circuit) just before `execute`
   * settles, whatever the outcome, rejections included. A throwing callback is ignored.
   */
  onSettled?: (details: CallDetails) => void;
}

/** What an admitted call holds until its outcome is recorded. */
type Ticket =
  /** admittedVersion: the period's version (undefined when the store could not be read: no period is known). */
  | { kind: 'counted'; state: 'CLOSED' | 'DISABLED'; admittedVersion?: number | null }
  | { kind: 'trial'; permit: PermitLease; record: CircuitRecord };

/** Only this many conditional writes per call when racing other instances for a permit; then the call is rejected. */
const MAX_ADMISSION_WRITES = 3;
/** Overrides retry on contention this many times. */
const MAX_OVERRIDE_ATTEMPTS = 5;

/**
 * A circuit breaker whose state lives in a shared store, so every instance (every Lambda container) with the same
 * `name` and store sees one circuit.
 *
 * @example
 * const breaker = new CircuitBreaker({ name: 'user-directory', store: new DynamoDBStateStore({ tableName }) });
 * const user = await breaker.execute((signal) => fetch(url, { signal }).then((r) => r.json()), {
 *   signal: AbortSignal.timeout(context.getRemainingTimeInMillis() - 500),
 *   onSettled: ({ outcome, state }) => logger.info('directory call', { outcome, state }),
 * });
 */
export class CircuitBreaker {
  /** The circuit's name (the state item's key). */
  readonly name: string;
  private readonly settings: BreakerSettings;
  private readonly events = new BreakerEvents();
  private readonly cache: StateCache;
  private readonly store: StoreClient;
  private readonly counts: CountRecorder;
  private pendingRead?: Promise<CircuitRecord>;
  /** Throttled writes waiting for their retry (with backoff); a waiting failure count holds calls. */
  private readonly throttled: ThrottledWrites;
  /** After a throttled refresh or permit write, the next ones wait (backoff); calls use the state last learned. */
  private readonly admissionGate: ThrottleGate;
  /** This instance's own circuit, for while the store cannot answer (onStoreError 'local'). */
  private readonly local?: LocalCircuit;
  private mode: BreakerMode = 'shared';

  /** @throws BreakerConfigError naming the first invalid option. */
  constructor(options: CircuitBreakerOptions) {
    this.settings = resolveOptions(options);
    this.name = this.settings.name;
    this.cache = new StateCache((state) => cacheDuration(state, this.settings, this.settings.random));
    this.throttled = new ThrottledWrites(this.settings.now, this.settings.random);
    this.admissionGate = new ThrottleGate(this.settings.random);
    if (this.settings.onStoreError === 'local') {
      this.local = new LocalCircuit(options, (localOptions) => new CircuitBreaker(localOptions), (event) => this.emit(event));
    }
    this.store = new StoreClient({ ...this.settings, circuit: this.name }, this.cache, (event) => this.emit(event), {
      answered: () => {
        this.admissionGate.answered();
        this.setMode('shared');
      },
      failed: () => {
        if (this.local) this.setMode('local');
      },
      mode: () => this.mode,
    });
    this.counts = new CountRecorder({
      name: this.name,
      settings: this.settings,
      store: this.store,
      cache: this.cache,
      repair: (request, problems) => this.repair(request, problems),
      transition: (from, request, reason) => this.transition(from, request, reason),
      openAfterCount: (from, request, reason) => this.openAfterCount(from, request, reason),
      countNotWritten: (error, increments) => this.countNotWritten(error, increments),
      repairTooLarge: () => this.repairTooLarge(),
      emit: (event) => this.emit(event),
    });
  }

  /** Whether this instance decides on the shared state or (onStoreError 'local', store unreachable) on its own. */
  get currentMode(): BreakerMode {
    return this.mode;
  }

  /** Subscribe to events; returns the unsubscribe function. A listener never breaks, hangs or delays a call's result. */
  onEvent(listener: BreakerEventListener): () => void {
    return this.events.subscribe(listener);
  }

  /**
   * Run `fn` through the circuit. Rejects with CircuitOpenError without calling `fn` when the circuit does not
   * admit the call, with CallTimeoutError when `fn` runs past timeoutMs (its signal is aborted), with the caller's
   * abort reason (or CallCancelledError) when `options.signal` aborts; else settles as `fn`.
   */
  async execute<T>(fn: (signal: AbortSignal) => Promise<T>, options: ExecuteOptions = {}): Promise<T> {
    if (typeof fn !== 'function') throw new TypeError('execute() needs a function (signal: AbortSignal) => Promise');
    const { signal, onSettled } = options ?? {};
    if (signal !== undefined && typeof signal?.addEventListener !== 'function') throw new TypeError('execute(): options.signal must be an AbortSignal');
    if (onSettled !== undefined && typeof onSettled !== 'function') throw new TypeError('execute(): options.onSettled must be a function');
    const report = (details: Omit<CallDetails, 'circuit'>) => {
      try {
        onSettled?.({ circuit: this.name, ...details });
      } catch {
        // The caller's own reporting never changes the call's result.
      }
    };

    if (signal?.aborted) {
      report({ outcome: 'cancelled', durationMs: 0 });
      throw cancellationError(this.name, signal);
    }
    // Local mode, store paused: the local state decides (the store is asked again once the pause ends).
    if (this.local && this.mode === 'local' && this.store.paused(this.settings.now())) return this.local.execute(fn, { signal, onSettled: onSettled as never });
    let ticket: Ticket;
    try {
      ticket = await this.admit();
    } catch (error) {
      if (error === DECIDE_LOCALLY && this.local) return this.local.execute(fn, { signal, onSettled: onSettled as never });
      if (error instanceof CircuitOpenError) report({ outcome: 'rejected', state: error.state as RejectionState, durationMs: 0 });
      throw error;
    }
    const state = ticket.kind === 'trial' ? 'HALF_OPEN' : ticket.state;
    const started = this.settings.now();
    const result = await runCall(fn, this.name, this.settings.timeoutMs, signal);
    const durationMs = this.settings.now() - started;
    const settled: Settled =
      result.kind === 'resolved'
        ? { kind: 'resolved', durationMs }
        : result.kind === 'threw'
          ? { kind: 'threw', countsAsFailure: this.countsAsFailure(result.error) }
          : { kind: result.kind };
    const outcome = outcomeOf(settled, this.settings);
    this.emit({ type: 'callCompleted', circuit: this.name, outcome, durationMs, state, at: this.settings.now() });

    if (result.kind === 'cancelled') {
      // Rejects at once; giving back a trial permit happens meanwhile (bounded by the store budget).
      void this.record(ticket, outcome);
      report({ outcome, state, durationMs });
      throw result.error;
    }
    const openUntil = await this.record(ticket, outcome);
    report({ outcome, state, durationMs, ...(openUntil === undefined ? {} : { openUntil }) });
    if (result.kind === 'resolved') return result.value;
    throw result.error;
  }

  /** The shared state, read fresh from the store (never from the cache). @throws StateStoreError if the store fails. */
  async getState(): Promise<CircuitSnapshot> {
    const now = this.settings.now();
    return snapshotOf(boundedRecord(await this.readFresh(), now, this.settings), now, this.settings);
  }

  /** Reject every call, on every instance, until reset(). @throws StateStoreError, OverrideContentionError */
  forceOpen(): Promise<CircuitSnapshot> {
    return this.override('forceOpen', 'FORCED_OPEN');
  }

  /** Let every call through, on every instance, still counting failures, until reset(). @throws StateStoreError, OverrideContentionError */
  disable(): Promise<CircuitSnapshot> {
    return this.override('disable', 'DISABLED');
  }

  /** Closed, counts cleared, backoff reset, on every instance; works on any item, a malformed one too. @throws StateStoreError, OverrideContentionError */
  reset(): Promise<CircuitSnapshot> {
    return this.override('reset', 'CLOSED');
  }

  // ---- admission ------------------------------------------------------------------------------------------------

  private async admit(): Promise<Ticket> {
    // Throttled writes whose backoff step is over are sent now, before this call is decided (they ride on calls).
    await this.throttled.runDue(this.settings.now());
    // A failure count (or the opening it leads to) was throttled and waits for its retry: the fleet is busy writing
    // the item, i.e. the downstream is failing. Hold off until the retry tells this instance the state.
    const held = this.throttled.holdFor(this.settings.now());
    if (held > 0) throw this.rejection('STORE_THROTTLED', held);
    let record: CircuitRecord;
    const gateOpen = this.admissionGate.open(this.settings.now());
    try {
      // Throttled moments ago: decide on the state last learned (however old; none: closed) until the gate opens.
      record = gateOpen ? await this.currentRecord() : (this.cache.current(this.settings.now()) ?? this.cache.latest() ?? emptyRecord(this.name));
    } catch (error) {
      // Throttled: the store is up and the item busy; the same, from now on for a backoff step.
      if (classifyStoreError(error) !== 'throttled') return this.onStoreUnavailable();
      this.admissionGate.throttled(this.settings.now());
      record = this.cache.latest() ?? emptyRecord(this.name);
    }
    for (let write = 0; write < MAX_ADMISSION_WRITES; write++) {
      const now = this.settings.now();
      record = boundedRecord(record, now, this.settings);
      const admission = admissionFor(record, now, this.settings);
      if (admission.kind === 'reject') throw this.rejection(admission.state, admission.retryAfterMs);
      // A locally opened circuit outlives the store's return: the shared item never saw the failures that opened it.
      if (this.local && record.state !== 'DISABLED') {
        const localOpenFor = this.local.localOpenFor(now);
        if (localOpenFor > 0) throw this.rejection('OPEN', localOpenFor);
      }
      if (admission.kind === 'pass') return { kind: 'counted', state: admission.state, admittedVersion: record.version };

      // Probing and taking permits wait for the gate too: a throttled fleet would otherwise keep the item throttled.
      if (!this.admissionGate.open(now)) throw this.rejection(record.state === 'OPEN' ? 'OPEN' : 'HALF_OPEN', 0);
      const take = permitRequest(record, admission, now, this.settings, randomUUID());
      let outcome: WriteOutcome;
      try {
        outcome =
          take.kind === 'transition'
            ? await this.store.call('transition', 'always', (abortSignal) => this.settings.store.transition(this.name, take.request, { abortSignal }))
            : await this.store.call('acquirePermit', 'always', (abortSignal) => this.settings.store.acquirePermit(this.name, take.request, { abortSignal }));
      } catch (error) {
        // Throttled: other instances are writing the item (probing too): as if every permit were taken, for a backoff step.
        if (classifyStoreError(error) === 'throttled') {
          this.admissionGate.throttled(this.settings.now());
          throw this.rejection(record.state === 'OPEN' ? 'OPEN' : 'HALF_OPEN', 0);
        }
        return this.onStoreUnavailable();
      }
      const seen = record;
      record = outcome.record;
      // A retried write may have been applied by its timed-out first attempt: holding our token is what counts.
      if (outcome.applied || holds(outcome.record, take.permit)) {
        if (take.kind === 'transition') this.stateChange(seen.state, 'HALF_OPEN', 'openPeriodElapsed');
        return { kind: 'trial', permit: take.permit, record: outcome.record };
      }
    }
    // Lost every race for a permit: as if open.
    throw this.rejection('HALF_OPEN', 0);
  }

  /**
   * The cached state if it may be trusted now, else a refresh (one per instance at a time): a read, or, when this
   * instance holds outcomes due to be flushed, the count write that carries them (it returns the item).
   */
  private currentRecord(): Promise<CircuitRecord> {
    const now = this.settings.now();
    const cached = this.cache.current(now);
    // Held outcomes due to be flushed go now even if the cached state is still trusted: a CLOSED state is trusted for
    // closedStateCacheMs (issue 11), longer than the flush lag the rate policy is judged with (countFlushMs + stateCacheMs).
    const flushDue = cached?.state === 'CLOSED' && this.counts.flushDueAt(now);
    if (cached && !flushDue) return Promise.resolve(cached);
    // A refresh may be eventually consistent: every transition is conditional on the version it read, so a stale read
    // costs at most one refused write (which returns the current item), never a wrong transition.
    const read = () => this.store.call('read', 'always', (abortSignal) => this.settings.store.read(this.name, { abortSignal, consistent: false }));
    this.pendingRead ??= (this.counts.flushDueAt(now) ? this.counts.refresh().then((record) => record ?? read()) : read()).finally(() => {
      this.pendingRead = undefined;
    });
    return this.pendingRead;
  }

  /** A strongly consistent read for operators and getState(), even during the store cooldown. */
  private readFresh(): Promise<CircuitRecord> {
    return this.store.call('read', 'always', (abortSignal) => this.settings.store.read(this.name, { abortSignal, consistent: true }), true);
  }

  /** The store could not answer (already reported as a storeError event): apply onStoreError. */
  private onStoreUnavailable(): Ticket {
    // 'local': this call (and every call until the store answers) is decided on the local state.
    if (this.local) throw DECIDE_LOCALLY;
    if (this.settings.onStoreError === 'deny') {
      throw this.rejection('STORE_UNAVAILABLE', Math.max(this.settings.stateCacheMs, this.settings.storeTimeoutMs));
    }
    // 'allow': this call, whose own store request failed, goes through as closed; no period is known, so its outcome is
    // counted without a version condition (the next call asks the store again).
    return { kind: 'counted', state: 'CLOSED' };
  }

  private setMode(mode: BreakerMode): void {
    if (this.mode === mode) return;
    this.mode = mode;
    if (mode === 'local') this.local?.enter();
    this.emit({ type: 'localMode', circuit: this.name, active: mode === 'local', at: this.settings.now() });
  }

  private rejection(state: RejectionState, retryAfterMs: number | null): CircuitOpenError {
    this.emit({ type: 'rejected', circuit: this.name, state, retryAfterMs, at: this.settings.now() });
    return new CircuitOpenError(this.name, retryAfterMs, state);
  }

  /** Whether `isFailure` counts this error; a broken isFailure must not hide failures. */
  private countsAsFailure(error: unknown): boolean {
    try {
      return this.settings.isFailure(error) !== false;
    } catch {
      return true;
    }
  }

  // ---- outcomes -------------------------------------------------------------------------------------------------

  /** Record an admitted call's outcome; resolves to openUntil when it opened the circuit. Never rejects. */
  private async record(ticket: Ticket, outcome: CallOutcome): Promise<number | undefined> {
    const action = outcomeAction(ticket.kind, outcome);
    try {
      switch (action.kind) {
        case 'none':
          return undefined;
        case 'count':
          return await this.counts.count(action.counted, outcome, ticket.kind === 'counted' ? ticket.admittedVersion : undefined);
        case 'trialSucceeded': {
          const trial = ticket as Ticket & { kind: 'trial' };
          await this.laterIfThrottled(`trialSucceeded:${trial.permit.token}`, false, () => this.trialSucceeded(trial));
          return undefined;
        }
        case 'trialFailed': {
          const trial = ticket as Ticket & { kind: 'trial' };
          // A throttled reopening is sent again later (the open period then starts from that moment); the permit's
          // lease keeps other trials out meanwhile, and this instance holds its calls.
          const reopen = async () => {
            const request = trialFailedTransition(trial.record, trial.permit, this.settings.now(), this.settings);
            return (await this.transition(trial.record, request, 'trialFailed')).applied ? request.openUntil : undefined;
          };
          return await this.laterIfThrottled(`trialFailed:${trial.permit.token}`, true, reopen);
        }
        case 'releasePermit': {
          const trial = ticket as Ticket & { kind: 'trial' };
          await this.laterIfThrottled(`releasePermit:${trial.permit.token}`, false, () =>
            this.store.call('releasePermit', 'always', (abortSignal) =>
              this.settings.store.releasePermit(this.name, permitRef(trial.permit, trial.record), { abortSignal }),
            ),
          );
          return undefined;
        }
      }
    } catch (error) {
      // Already reported as a storeError event; the caller gets the call's own result. An item too large to write
      // would refuse every later write too: rewrite it as a closed item (counts repair it themselves, CountRecorder).
      if (error instanceof StoreItemTooLargeError) await this.repairTooLarge().catch(() => undefined);
      return undefined;
    }
  }

  /** The item is too large for the store to update: the store rewrites it whole as a closed item (reported). */
  private async repairTooLarge(): Promise<number | null> {
    const record = await this.readFresh();
    const problems = ['the item is too large to write'];
    const result = await this.repair(repairTransition({ ...record, problems: [...record.problems, ...problems] }, this.settings.now(), this.settings), problems);
    if (!result.applied) throw new StoreItemTooLargeError(this.name, new Error('repair lost a race'));
    return result.record.version;
  }

  /**
   * Run a write; if the store throttles it, hand it to ThrottledWrites (sent again later with backoff, the same
   * `send`, which must throw a throttled error again rather than re-schedule) and resolve to undefined.
   */
  private async laterIfThrottled<R>(key: string, hold: boolean, send: () => Promise<R>): Promise<R | undefined> {
    try {
      return await send();
    } catch (error) {
      if (classifyStoreError(error) !== 'throttled') throw error;
      this.throttled.retryLater(key, { payload: undefined, send, hold });
      return undefined;
    }
  }

  /**
   * The opening a count write led to (the count itself was stored). Throttled: sent again later, computed afresh (its
   * open period starts when it is written), and this instance holds its calls meanwhile. Any other store error is
   * already reported; the count stands. Never rejects.
   */
  private async openAfterCount(from: CircuitRecord, first: TransitionRequest, reason: string): Promise<WriteOutcome | undefined> {
    let attempt = 0;
    const open = () => this.transition(from, attempt++ === 0 ? first : openTransition(from, this.settings.now(), this.settings), reason);
    try {
      return await this.laterIfThrottled(`open:${String(from.version)}`, true, open);
    } catch {
      return undefined;
    }
  }

  /**
   * A count write the store did not take (CountRecorder put back what certainly was not written). Throttled: its
   * retry is due after a backoff step (ThrottledWrites), and while failures wait this instance holds its calls. The
   * store unreachable under 'local': the local circuit counts the failures.
   */
  private async countNotWritten(error: unknown, increments: Readonly<Record<string, number>>): Promise<void> {
    const failures = Object.entries(increments).reduce((sum, [counter, n]) => (counter.startsWith('f_') ? sum + n : sum), 0);
    if (classifyStoreError(error) === 'throttled') {
      this.throttled.retryLater('count', { payload: undefined, send: () => this.retryHeldCounts(), hold: failures > 0 });
      return;
    }
    if (this.local && !(error instanceof StoreItemTooLargeError)) for (let i = 0; i < failures; i++) await this.local.recordOutcome('failure');
  }

  /**
   * A throttled count's retry. It reads first (eventually consistent: half a read unit, and a partition serves six
   * times more of those than writes): once the circuit opened the held counts would be refused anyway, so they are
   * dropped without a write. This keeps a throttled fleet from throttling itself further with its own retries.
   * Throws a throttled error again for the next backoff step.
   */
  private async retryHeldCounts(): Promise<void> {
    const record = await this.store.call('read', 'always', (abortSignal) => this.settings.store.read(this.name, { abortSignal, consistent: false }));
    if (refusesCounts(record)) {
      // What is held is dropped (its period ended), and said so.
      if (this.counts.stats().pending > 0) this.emit({ type: 'outcomeDiscarded', circuit: this.name, outcome: 'failure', reason: 'periodEnded', at: this.settings.now() });
      this.counts.flushDueAt(this.settings.now());
      return;
    }
    const error = await this.counts.flushHeld();
    if (error !== undefined && classifyStoreError(error) === 'throttled') throw error;
  }

  private async trialSucceeded(trial: { permit: PermitLease; record: CircuitRecord }): Promise<void> {
    const result = await this.store.call('recordTrialSuccess', 'always', (abortSignal) =>
      this.settings.store.recordTrialSuccess(this.name, permitRef(trial.permit, trial.record), { abortSignal }),
    );
    const next = afterTrialSuccess(result, this.settings.now(), this.settings);
    if (next.kind === 'close') await this.transition(result.record, next.request, 'trialSucceeded');
  }

  private async repair(request: TransitionRequest, problems: string[]): Promise<WriteOutcome> {
    const result = await this.store.call('transition', 'always', (abortSignal) => this.settings.store.transition(this.name, request, { abortSignal }));
    if (result.applied) this.emit({ type: 'itemRepaired', circuit: this.name, problems, at: this.settings.now() });
    return result;
  }

  private async transition(from: CircuitRecord, request: TransitionRequest, reason: string): Promise<WriteOutcome> {
    const result = await this.store.call('transition', 'always', (abortSignal) => this.settings.store.transition(this.name, request, { abortSignal }));
    if (result.applied) this.stateChange(from.state, request.to, reason, request.openUntil);
    return result;
  }

  private async override(override: Override, to: CircuitStateName): Promise<CircuitSnapshot> {
    for (let attempt = 0; attempt < MAX_OVERRIDE_ATTEMPTS; attempt++) {
      const record = await this.readFresh();
      const request = overrideRequest(override, record, this.settings.now(), this.settings);
      const result = await this.store.call('transition', 'always', (abortSignal) => this.settings.store.transition(this.name, request, { abortSignal }), true);
      if (result.applied) {
        if (record.problems.length > 0) this.emit({ type: 'itemRepaired', circuit: this.name, problems: record.problems, at: this.settings.now() });
        if (record.state !== to) this.stateChange(record.state, to, override);
        return snapshotOf(result.record, this.settings.now(), this.settings);
      }
    }
    throw new OverrideContentionError(this.name, override, MAX_OVERRIDE_ATTEMPTS);
  }

  // ---- events ---------------------------------------------------------------------------------------------------

  private stateChange(from: CircuitStateName, to: CircuitStateName, reason: string, openUntil?: number): void {
    this.emit({ type: 'stateChange', circuit: this.name, from, to, reason, at: this.settings.now(), ...(openUntil !== undefined ? { openUntil } : {}) });
  }

  private emit(event: BreakerEvent): void {
    this.events.emit(event);
  }
}

/** Thrown by admit() when the local circuit decides the call (onStoreError 'local', store unreachable). */
const DECIDE_LOCALLY = Symbol('decide locally');

function permitRef(permit: PermitLease, record: CircuitRecord): PermitRef {
  return { version: record.version as number, slot: permit.slot, token: permit.token };
}
