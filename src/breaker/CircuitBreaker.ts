/**
 * Runs calls through a circuit whose state is shared by every instance using the same store and name.
 * Owns what is per instance: the cached state, call timeouts, the store budget and event delivery. What a state
 * allows and what each transition writes are decided in transitions.ts; the stores make each write atomic.
 *
 * @example
 * const breaker = new CircuitBreaker({ name: 'user-directory', store: new DynamoDBStateStore({ tableName }) });
 * const user = await breaker.execute((signal) => fetch(url, { signal }).then((r) => r.json()));
 */
import { randomUUID } from 'node:crypto';
import { CallTimeoutError, CircuitOpenError, StateStoreError, StoreTimeoutError } from './errors';
import type { BreakerEvent, BreakerEventListener, CircuitStateName } from './events';
import { resolveOptions, type BreakerSettings, type CircuitBreakerOptions } from './options';
import { emptyRecord, type CircuitRecord, type PermitLease } from './state';
import { MAX_REMOVALS_PER_WRITE, type StateStore, type WriteOutcome } from './store/StateStore';
import {
  admissionFor,
  closeTransition,
  halfOpenTransition,
  itemExpiry,
  openTransition,
  overrideTransition,
  repairTransition,
  snapshotOf,
  type CircuitSnapshot,
} from './transitions';

type CallOutcome = 'success' | 'failure' | 'ignored' | 'slow' | 'timeout';

/** What an admitted call holds until its outcome is recorded. */
type Ticket =
  | { kind: 'counted'; state: 'CLOSED' | 'DISABLED' }
  | { kind: 'trial'; permit: PermitLease; record: CircuitRecord };

/** Only this many conditional writes per call when racing other instances for a permit; then the call is rejected. */
const MAX_ADMISSION_WRITES = 3;
/** Overrides retry on contention this many times. */
const MAX_OVERRIDE_ATTEMPTS = 5;

/** Store errors after which a write was certainly not applied, so even a non-idempotent ADD may be retried. */
const NOT_APPLIED_ERRORS = new Set(['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'LimitExceededException']);

export class CircuitBreaker {
  readonly name: string;
  private readonly settings: BreakerSettings;
  private readonly store: StateStore;
  private readonly listeners = new Set<BreakerEventListener>();
  /** The last state learned (read or returned by a write), when it was learned, and the sequence number it came in with. */
  private cache?: { record: CircuitRecord; at: number; receivedSeq: number };
  private seq = 0;
  private pendingRead?: Promise<CircuitRecord>;
  /** After the store failed, calls do not wait on it again until then (epoch ms). */
  private storeDownUntil = Number.NEGATIVE_INFINITY;

  constructor(options: CircuitBreakerOptions) {
    this.settings = resolveOptions(options);
    this.name = this.settings.name;
    this.store = this.settings.store;
  }

  /** Subscribe to events; returns the unsubscribe function. A throwing listener never breaks a call. */
  onEvent(listener: BreakerEventListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('onEvent() needs a function');
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Run `fn` through the circuit. Rejects with CircuitOpenError without calling `fn` when the circuit does not
   * admit the call, with CallTimeoutError when `fn` runs past timeoutMs (its signal is aborted), else settles as `fn`.
   */
  async execute<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (typeof fn !== 'function') throw new TypeError('execute() needs a function (signal: AbortSignal) => Promise');
    const ticket = await this.admit();
    const started = this.settings.now();
    let value: T;
    try {
      value = await this.runWithTimeout(fn);
    } catch (error) {
      const outcome: CallOutcome = error instanceof TimedOut ? 'timeout' : this.counts(error) ? 'failure' : 'ignored';
      await this.settle(ticket, outcome, started);
      throw error instanceof TimedOut ? error.error : error;
    }
    const slow = this.settings.now() - started > this.settings.slowCallMs;
    await this.settle(ticket, slow ? 'slow' : 'success', started);
    return value;
  }

  /** The shared state, read fresh from the store (never from the cache). Throws StateStoreError if the store fails. */
  async getState(): Promise<CircuitSnapshot> {
    const record = await this.readFromStore(true);
    return snapshotOf(record, this.settings.now(), this.settings.openingPolicy);
  }

  /** Reject every call, on every instance, until reset(). */
  forceOpen(): Promise<CircuitSnapshot> {
    return this.override('FORCED_OPEN', 'forceOpen', (record, now) => overrideTransition(record, 'FORCED_OPEN', now, this.settings));
  }

  /** Let every call through, on every instance, still counting failures, until reset(). */
  disable(): Promise<CircuitSnapshot> {
    return this.override('DISABLED', 'disable', (record, now) => overrideTransition(record, 'DISABLED', now, this.settings));
  }

  /** Closed, counts cleared, backoff reset, on every instance. */
  reset(): Promise<CircuitSnapshot> {
    return this.override('CLOSED', 'reset', (record, now) => closeTransition(record, now, this.settings));
  }

  // ---- admission ------------------------------------------------------------------------------------------------

  private async admit(): Promise<Ticket> {
    let record: CircuitRecord;
    try {
      record = await this.currentRecord();
    } catch {
      return this.onStoreUnavailable();
    }
    for (let write = 0; write < MAX_ADMISSION_WRITES; write++) {
      const now = this.settings.now();
      const decision = admissionFor(record, now, this.settings);
      if (decision.kind === 'pass') return { kind: 'counted', state: decision.state };
      if (decision.kind === 'reject') throw this.rejection(decision.state, decision.retryAfterMs);

      const permit: PermitLease = {
        slot: decision.kind === 'probe' ? 0 : decision.slot,
        token: randomUUID(),
        expiresAt: now + this.settings.timeoutMs + this.settings.permitLeaseMarginMs,
      };
      let outcome: WriteOutcome;
      try {
        outcome =
          decision.kind === 'probe'
            ? await this.storeCall('transition', 'always', (abortSignal) =>
                this.store.transition(this.name, halfOpenTransition(record, now, this.settings, permit), { abortSignal }),
              )
            : await this.storeCall('acquirePermit', 'always', (abortSignal) =>
                this.store.acquirePermit(this.name, { version: record.version as number, permit, now }, { abortSignal }),
              );
      } catch {
        return this.onStoreUnavailable();
      }
      const seen = record;
      record = outcome.record;
      // A retried write may have been applied by its timed-out first attempt: holding our token is what counts.
      if (outcome.applied || holds(outcome.record, permit)) {
        if (decision.kind === 'probe') this.stateChange(seen.state, 'HALF_OPEN', 'openPeriodElapsed');
        return { kind: 'trial', permit, record: outcome.record };
      }
    }
    // Lost every race for a permit: as if open.
    throw this.rejection('HALF_OPEN', 0);
  }

  /** The cached state if it may be trusted now, else a strongly consistent read (one per instance at a time). */
  private async currentRecord(): Promise<CircuitRecord> {
    const cached = this.cache;
    if (cached) {
      // OPEN is trusted until its open period ends; after that the conditional probe write itself checks it.
      if (cached.record.state === 'OPEN') return cached.record;
      if (this.settings.now() - cached.at < this.settings.stateCacheMs) return cached.record;
    }
    return this.readFromStore(false);
  }

  private readFromStore(fresh: boolean): Promise<CircuitRecord> {
    if (fresh) return this.storeCall('read', 'always', (abortSignal) => this.store.read(this.name, { abortSignal }), true);
    this.pendingRead ??= this.storeCall('read', 'always', (abortSignal) => this.store.read(this.name, { abortSignal })).finally(() => {
        this.pendingRead = undefined;
      });
    return this.pendingRead;
  }

  /** The store could not answer (already reported as a storeError event): apply onStoreError. */
  private onStoreUnavailable(): Ticket {
    if (this.settings.onStoreError === 'deny') {
      throw this.rejection('STORE_UNAVAILABLE', Math.max(this.settings.stateCacheMs, this.settings.storeTimeoutMs));
    }
    return { kind: 'counted', state: 'CLOSED' };
  }

  private rejection(state: CircuitStateName | 'STORE_UNAVAILABLE', retryAfterMs: number): CircuitOpenError {
    this.emit({ type: 'rejected', circuit: this.name, state, retryAfterMs, at: this.settings.now() });
    return new CircuitOpenError(this.name, retryAfterMs, state);
  }

  // ---- the call -------------------------------------------------------------------------------------------------

  /** Abort `fn`'s signal and reject at timeoutMs, even if `fn` ignores the signal. */
  private runWithTimeout<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new CallTimeoutError(this.name, this.settings.timeoutMs);
        controller.abort(error);
        reject(new TimedOut(error));
      }, this.settings.timeoutMs);
      let running: Promise<T>;
      try {
        running = Promise.resolve(fn(controller.signal));
      } catch (error) {
        running = Promise.reject(error);
      }
      running.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  private counts(error: unknown): boolean {
    try {
      return this.settings.isFailure(error) !== false;
    } catch {
      return true; // a broken isFailure must not hide failures
    }
  }

  // ---- outcomes -------------------------------------------------------------------------------------------------

  private async settle(ticket: Ticket, outcome: CallOutcome, started: number): Promise<void> {
    const now = this.settings.now();
    const state: CircuitStateName = ticket.kind === 'trial' ? 'HALF_OPEN' : ticket.state;
    this.emit({ type: 'callCompleted', circuit: this.name, outcome, durationMs: now - started, state, at: now });
    const failed = outcome === 'failure' || outcome === 'slow' || outcome === 'timeout';
    try {
      if (ticket.kind === 'counted') {
        if (outcome !== 'ignored') await this.count(failed ? 'failure' : 'success');
      } else if (failed) {
        await this.trialFailed(ticket.permit, ticket.record);
      } else if (outcome === 'success') {
        await this.trialSucceeded(ticket.permit, ticket.record);
      } else {
        await this.storeCall('releasePermit', 'always', (abortSignal) =>
          this.store.releasePermit(this.name, permitRef(ticket.permit, ticket.record), { abortSignal }),
        );
      }
    } catch {
      // Already reported as a storeError event; the caller gets the call's own result.
    }
  }

  /** A closed or disabled call's outcome: one ADD (none when the policy does not store it), then maybe open. */
  private async count(outcome: 'success' | 'failure'): Promise<void> {
    const policy = this.settings.openingPolicy;
    const now = this.settings.now();
    const counter = policy.counterFor(outcome, now);
    if (counter === undefined) return; // healthy calls write nothing
    const recordCount = () => {
      const known = this.cache?.record ?? emptyRecord(this.name);
      const staleCounters = policy.staleCounters(known.counters, now).filter((name) => name !== counter);
      // A count keeps a closed item from expiring while its window is live; a disabled one never expires.
      const expiry = itemExpiry(known.state === 'DISABLED' ? 'DISABLED' : 'CLOSED', now, this.settings);
      return this.storeCall('recordCount', 'ifNotApplied', (abortSignal) =>
        this.store.recordCount(this.name, { increments: { [counter]: 1 }, staleCounters: staleCounters.slice(0, MAX_REMOVALS_PER_WRITE), now, ...expiry }, { abortSignal }),
      );
    };
    let result = await recordCount();
    let record = result.record;
    if (record.problems.length > 0) {
      record = await this.repair(record);
      if (!result.applied) {
        result = await recordCount();
        record = result.record;
      }
    }
    if (result.applied && record.state === 'CLOSED' && record.problems.length === 0 && policy.shouldOpen(record.counters, now)) {
      await this.transition(record, openTransition(record, now, this.settings), 'failureThreshold');
    }
    if (result.applied && record.state === 'DISABLED' && record.expiresAt !== undefined) {
      // Race: an operator disabled the circuit after this instance last read it, so the count just set an expiry on
      // an item that must last until reset. Rewriting the override (conditional on this version) removes it.
      await this.storeCall('transition', 'always', (abortSignal) =>
        this.store.transition(this.name, overrideTransition(record, 'DISABLED', now, this.settings), { abortSignal }),
      );
    }
  }

  private async trialSucceeded(permit: PermitLease, trialRecord: CircuitRecord): Promise<void> {
    const result = await this.storeCall('recordTrialSuccess', 'always', (abortSignal) =>
      this.store.recordTrialSuccess(this.name, permitRef(permit, trialRecord), { abortSignal }),
    );
    const record = result.record;
    if (result.applied && record.state === 'HALF_OPEN' && record.trialSuccesses >= this.settings.halfOpenSuccessThreshold) {
      await this.transition(record, closeTransition(record, this.settings.now(), this.settings), 'trialSucceeded');
    }
  }

  private async trialFailed(permit: PermitLease, trialRecord: CircuitRecord): Promise<void> {
    // Guarded by the half-open version the trial ran in and by still holding its permit: a late failure never
    // reopens a circuit that moved on, nor one whose permit was re-leased after this holder froze.
    const request = { ...openTransition(trialRecord, this.settings.now(), this.settings), heldPermit: { slot: permit.slot, token: permit.token } };
    await this.transition(trialRecord, request, 'trialFailed');
  }

  private async repair(record: CircuitRecord): Promise<CircuitRecord> {
    const result = await this.storeCall('transition', 'always', (abortSignal) =>
      this.store.transition(this.name, repairTransition(record, this.settings.now(), this.settings), { abortSignal }),
    );
    if (result.applied) this.emit({ type: 'itemRepaired', circuit: this.name, problems: record.problems, at: this.settings.now() });
    return result.record;
  }

  private async transition(from: CircuitRecord, request: ReturnType<typeof openTransition>, reason: string): Promise<WriteOutcome> {
    const result = await this.storeCall('transition', 'always', (abortSignal) => this.store.transition(this.name, request, { abortSignal }));
    if (result.applied) this.stateChange(from.state, request.to, reason, request.openUntil);
    return result;
  }

  private async override(
    to: CircuitStateName,
    reason: string,
    build: (record: CircuitRecord, now: number) => ReturnType<typeof openTransition>,
  ): Promise<CircuitSnapshot> {
    for (let attempt = 0; attempt < MAX_OVERRIDE_ATTEMPTS; attempt++) {
      const record = await this.readFromStore(true);
      const request = build(record, this.settings.now());
      const result = await this.storeCall('transition', 'always', (abortSignal) => this.store.transition(this.name, request, { abortSignal }), true);
      if (result.applied) {
        if (record.state !== to) this.stateChange(record.state, to, reason);
        return snapshotOf(result.record, this.settings.now(), this.settings.openingPolicy);
      }
    }
    throw new StateStoreError(this.name, 'transition', new Error(`${reason}: the state kept changing under ${MAX_OVERRIDE_ATTEMPTS} attempts`));
  }

  // ---- cache, store budget, events ------------------------------------------------------------------------------

  /**
   * Cache what the store just said, unless it is older than what is cached: responses to concurrent requests can
   * arrive out of order, and a late CLOSED must not overwrite the OPEN that replaced it (versions only grow). A
   * response to a request sent after the cached one arrived is newer whatever its version (e.g. a deleted item).
   */
  private learn(record: CircuitRecord, issuedSeq: number): void {
    const cached = this.cache;
    const receivedSeq = ++this.seq;
    if (cached && (record.version ?? -1) < (cached.record.version ?? -1) && issuedSeq < cached.receivedSeq) return;
    this.cache = { record, at: this.settings.now(), receivedSeq };
  }

  /**
   * One store request within its budget: each attempt gets storeTimeoutMs (its AbortSignal fires, and the caller
   * stops waiting even if the store ignores it), at most storeMaxAttempts attempts. 'ifNotApplied' requests (a
   * non-idempotent ADD) are retried only after errors that prove nothing was written: counted twice is as wrong as lost.
   */
  private async storeCall<T extends CircuitRecord | WriteOutcome>(
    operation: string,
    retry: 'always' | 'ifNotApplied',
    request: (signal: AbortSignal) => Promise<T>,
    ignoreCooldown = false,
  ): Promise<T> {
    if (!ignoreCooldown && this.settings.now() < this.storeDownUntil) {
      throw new StateStoreError(this.name, operation, new Error('store unavailable moments ago; not asked again yet'));
    }
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.settings.storeMaxAttempts; attempt++) {
      const controller = new AbortController();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new StoreTimeoutError(this.settings.storeTimeoutMs);
          controller.abort(error);
          reject(error);
        }, this.settings.storeTimeoutMs);
      });
      const issuedSeq = ++this.seq;
      try {
        const result = await Promise.race([request(controller.signal), timeout]);
        this.learn('applied' in result ? result.record : result, issuedSeq);
        return result;
      } catch (error) {
        lastError = error;
        if (retry === 'ifNotApplied' && !NOT_APPLIED_ERRORS.has((error as Error)?.name)) break;
      } finally {
        clearTimeout(timer);
      }
    }
    const failure = new StateStoreError(this.name, operation, lastError);
    this.storeDownUntil = this.settings.now() + this.settings.stateCacheMs;
    this.emit({ type: 'storeError', circuit: this.name, operation, error: failure, policy: this.settings.onStoreError, at: this.settings.now() });
    throw failure;
  }

  private stateChange(from: CircuitStateName, to: CircuitStateName, reason: string, openUntil?: number): void {
    this.emit({ type: 'stateChange', circuit: this.name, from, to, reason, at: this.settings.now(), ...(openUntil !== undefined ? { openUntil } : {}) });
  }

  private emit(event: BreakerEvent): void {
    for (const listener of this.listeners) {
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

/** Marks the breaker's own timeout apart from any error `fn` throws (fn might throw a CallTimeoutError of its own). */
class TimedOut {
  constructor(readonly error: CallTimeoutError) {}
}

function holds(record: CircuitRecord, permit: PermitLease): boolean {
  return record.state === 'HALF_OPEN' && record.permits.some((held) => held.slot === permit.slot && held.token === permit.token);
}

function permitRef(permit: PermitLease, record: CircuitRecord): { version: number; slot: number; token: string } {
  return { version: record.version as number, slot: permit.slot, token: permit.token };
}
