import { CallTimeoutError, CircuitBreaker, CircuitOpenError, MemoryStateStore, type BreakerEvent, type CircuitBreakerOptions } from '../../../src/breaker';
import { ManualClock } from '../../support/breaker/clock';
import { deferred } from '../../support/breaker/deferred';
import { InstrumentedStore } from '../../support/breaker/storeDoubles';

const NAME = 'downstream';
const boom = () => Promise.reject(new Error('downstream failed'));
const ok = () => Promise.resolve('ok');

function setup(overrides: Partial<CircuitBreakerOptions> = {}, shared?: { memory: MemoryStateStore; clock: ManualClock }) {
  const memory = shared?.memory ?? new MemoryStateStore();
  const clock = shared?.clock ?? new ManualClock();
  const store = new InstrumentedStore(memory);
  const breaker = new CircuitBreaker({
    name: NAME,
    store,
    failureThreshold: 3,
    windowMs: 10_000,
    openMs: 1_000,
    maxOpenMs: 5_000,
    halfOpenMaxCalls: 2,
    halfOpenSuccessThreshold: 2,
    timeoutMs: 500,
    slowCallMs: 200,
    permitLeaseMarginMs: 100,
    stateCacheMs: 1_000,
    closedStateCacheMs: 1_000,
    random: () => 0,
    now: clock.now,
    ...overrides,
  });
  const events: BreakerEvent[] = [];
  breaker.onEvent((event) => events.push(event));
  const stateChanges = () => events.filter((e) => e.type === 'stateChange').map((e) => e.type === 'stateChange' && `${e.from}->${e.to}:${e.reason}`);
  return { memory, clock, store, breaker, events, stateChanges };
}

async function failTimes(breaker: CircuitBreaker, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await expect(breaker.execute(boom)).rejects.toThrow('downstream failed');
}

async function openCircuit(t: ReturnType<typeof setup>): Promise<void> {
  await failTimes(t.breaker, 3);
  expect((await t.breaker.getState()).state).toBe('OPEN');
}

describe('closed', () => {
  test('passes calls and returns their result; a healthy call with a fresh cache makes no store request', async () => {
    const t = setup();
    await expect(t.breaker.execute(ok)).resolves.toBe('ok');
    expect(t.store.calls.read).toBe(1);
    t.store.resetCounts();
    t.clock.advance(999);
    for (let i = 0; i < 10; i++) await t.breaker.execute(ok);
    expect(t.store.total()).toBe(0);
  });

  test('re-reads once the cache is older than stateCacheMs; concurrent callers share one read', async () => {
    const t = setup();
    await t.breaker.execute(ok);
    t.store.resetCounts();
    t.clock.advance(1_000);
    await Promise.all(Array.from({ length: 20 }, () => t.breaker.execute(ok)));
    expect(t.store.calls).toMatchObject({ read: 1, recordCount: 0, transition: 0 });
  });

  test('each failure costs one write; the threshold-th failure opens the circuit with a second write', async () => {
    const t = setup();
    await t.breaker.execute(ok);
    t.store.resetCounts();
    await failTimes(t.breaker, 2);
    expect(t.store.calls).toMatchObject({ recordCount: 2, transition: 0, read: 0 });
    await failTimes(t.breaker, 1);
    expect(t.store.calls).toMatchObject({ recordCount: 3, transition: 1, read: 0 });
    expect(t.stateChanges()).toEqual(['CLOSED->OPEN:failureThreshold']);
    const opened = t.events.find((e) => e.type === 'stateChange');
    expect(opened).toMatchObject({ openUntil: t.clock.time + 1_000 });
  });

  test('the opening write records when and why it opened, kept through half-open, cleared by the close', async () => {
    const t = setup();
    const openedAt = t.clock.time;
    await failTimes(t.breaker, 3);
    expect(await t.breaker.getState()).toMatchObject({ state: 'OPEN', openedAt, openReason: 'failureThreshold', openFailures: 3 });
    expect(t.memory.rawItem(NAME)).toMatchObject({ openedAt, openReason: 'failureThreshold', openFailures: 3 });
    t.clock.advance(1_000);
    await expect(t.breaker.execute(boom)).rejects.toThrow('downstream failed');
    expect(await t.breaker.getState()).toMatchObject({ state: 'OPEN', openedAt: openedAt + 1_000, openReason: 'trialFailed', openFailures: 0 });
    t.clock.advance(2_000);
    await t.breaker.execute(ok);
    expect(await t.breaker.getState()).toMatchObject({ state: 'HALF_OPEN', openReason: 'trialFailed' });
    await t.breaker.execute(ok);
    const closed = await t.breaker.getState();
    expect(closed.state).toBe('CLOSED');
    expect(closed.openedAt).toBeUndefined();
    expect(t.memory.rawItem(NAME)).not.toHaveProperty('openReason');
  });

  test('failures roll out of the window: old failures stop counting, without fixed-boundary resets', async () => {
    const t = setup();
    await failTimes(t.breaker, 2);
    t.clock.advance(10_000); // both old failures have left the 10 s window
    await failTimes(t.breaker, 2);
    expect((await t.breaker.getState()).state).toBe('CLOSED');
    expect((await t.breaker.getState()).failures).toBe(2);
    t.clock.advance(5_000); // the last two are still inside
    await failTimes(t.breaker, 1);
    expect((await t.breaker.getState()).state).toBe('OPEN');
  });

  test('stale buckets are removed by the next failure write', async () => {
    const t = setup();
    await failTimes(t.breaker, 1);
    const firstBucket = Object.keys(t.memory.rawItem(NAME) ?? {}).find((k) => k.startsWith('f_'));
    t.clock.advance(20_000);
    await t.breaker.getState(); // learn the item so the stale name is known
    await failTimes(t.breaker, 1);
    const buckets = Object.keys(t.memory.rawItem(NAME) ?? {}).filter((k) => k.startsWith('f_'));
    expect(buckets).toHaveLength(1);
    expect(buckets).not.toContain(firstBucket);
  });

  test('isFailure can exempt errors: rethrown, not counted, nothing written', async () => {
    const t = setup({ isFailure: (error) => !(error instanceof RangeError) });
    await t.breaker.execute(ok);
    t.store.resetCounts();
    for (let i = 0; i < 5; i++) await expect(t.breaker.execute(() => Promise.reject(new RangeError('404')))).rejects.toThrow(RangeError);
    expect(t.store.total()).toBe(0);
    expect((await t.breaker.getState()).failures).toBe(0);
  });

  test('a throwing isFailure counts the error as a failure', async () => {
    const t = setup({
      isFailure: () => {
        throw new Error('bad predicate');
      },
    });
    await failTimes(t.breaker, 1);
    expect((await t.breaker.getState()).failures).toBe(1);
  });

  test('a slow success returns its result but counts as a failure', async () => {
    const t = setup();
    const slow = async () => {
      t.clock.advance(201);
      return 'late';
    };
    await expect(t.breaker.execute(slow)).resolves.toBe('late');
    expect((await t.breaker.getState()).failures).toBe(1);
    const completed = t.events.find((e) => e.type === 'callCompleted');
    expect(completed).toMatchObject({ outcome: 'slow', durationMs: 201 });
    await t.breaker.execute(async () => {
      t.clock.advance(200); // exactly slowCallMs is not slow
      return 'fine';
    });
    expect((await t.breaker.getState()).failures).toBe(1);
  });

  test('a failed call is thrown to the caller even when a synchronous throw happens in fn', async () => {
    const t = setup();
    await expect(
      t.breaker.execute(() => {
        throw new TypeError('sync');
      }),
    ).rejects.toThrow(TypeError);
    expect((await t.breaker.getState()).failures).toBe(1);
  });
});

describe('timeouts', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'Date', 'setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  test('at timeoutMs the signal is aborted and the caller gets CallTimeoutError, even if fn ignores the signal', async () => {
    const t = setup();
    let signal: AbortSignal | undefined;
    const never = deferred<string>();
    const call = t.breaker.execute((s) => {
      signal = s;
      return never.promise;
    });
    const settled = expect(call).rejects.toBeInstanceOf(CallTimeoutError);
    await jest.advanceTimersByTimeAsync(499);
    expect(signal?.aborted).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await settled;
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(CallTimeoutError);
    expect((await t.breaker.getState()).failures).toBe(1);
    expect(t.events.find((e) => e.type === 'callCompleted')).toMatchObject({ outcome: 'timeout' });
    never.resolve('too late');
  });

  test('a call that finishes in time clears its timer', async () => {
    const t = setup();
    await t.breaker.execute(ok);
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('open', () => {
  test('rejects at once with CircuitOpenError, without calling fn or the store', async () => {
    const t = setup();
    await openCircuit(t);
    t.store.resetCounts();
    t.clock.advance(400);
    const fn = jest.fn(ok);
    const error = await t.breaker.execute(fn).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect(error).toMatchObject({ circuit: NAME, state: 'OPEN', retryAfterMs: 600 });
    expect(fn).not.toHaveBeenCalled();
    expect(t.store.total()).toBe(0);
    expect(t.events.at(-1)).toMatchObject({ type: 'rejected', state: 'OPEN', retryAfterMs: 600 });
  });

  test('failures that land after the opening do not count toward the next closed period', async () => {
    const shared = { memory: new MemoryStateStore(), clock: new ManualClock() };
    const a = setup({}, shared);
    const b = setup({}, shared);
    await b.breaker.execute(ok); // b caches CLOSED
    await openCircuit(a);
    await failTimes(b.breaker, 1); // admitted on b's stale cache; its write is refused and b learns OPEN
    expect(Object.keys(shared.memory.rawItem(NAME) ?? {}).filter((k) => k.startsWith('f_'))).toEqual([]);
    await expect(b.breaker.execute(ok)).rejects.toBeInstanceOf(CircuitOpenError);
  });
});

describe('half-open', () => {
  test('after the open period the first caller probes: OPEN -> HALF_OPEN with its permit in one write', async () => {
    const t = setup();
    await openCircuit(t);
    t.clock.advance(1_000);
    t.store.resetCounts();
    const gate = deferred<string>();
    const trial = t.breaker.execute(() => gate.promise);
    await new Promise(setImmediate);
    // One (eventually consistent) read first: an instance probes only if the item still reads OPEN (issue 11).
    expect(t.store.calls).toMatchObject({ transition: 1, acquirePermit: 0, read: 1 });
    expect(await t.breaker.getState()).toMatchObject({ state: 'HALF_OPEN', trialsInFlight: 1 });
    gate.resolve('ok');
    await expect(trial).resolves.toBe('ok');
    expect(t.stateChanges()).toContain('OPEN->HALF_OPEN:openPeriodElapsed');
  });

  test('at most halfOpenMaxCalls trials run at once; the rest are rejected as HALF_OPEN', async () => {
    const t = setup();
    await openCircuit(t);
    t.clock.advance(1_000);
    const gate = deferred<string>();
    let running = 0;
    const calls = Array.from({ length: 10 }, () =>
      t.breaker.execute(async () => {
        running++;
        return gate.promise;
      }),
    );
    const rejected = await Promise.all(calls.slice(2).map((call) => call.catch((e: unknown) => e)));
    expect(running).toBe(2);
    for (const error of rejected) expect(error).toMatchObject({ name: 'CircuitOpenError', state: 'HALF_OPEN', retryAfterMs: 0 });
    gate.resolve('ok');
    await Promise.all(calls.slice(0, 2));
    expect(t.stateChanges()).toEqual(['CLOSED->OPEN:failureThreshold', 'OPEN->HALF_OPEN:openPeriodElapsed', 'HALF_OPEN->CLOSED:trialSucceeded']);
  });

  test('halfOpenSuccessThreshold successes close the circuit, clear its counts and reset the backoff', async () => {
    const t = setup({ halfOpenMaxCalls: 1, halfOpenSuccessThreshold: 3 });
    await openCircuit(t);
    t.clock.advance(1_000);
    await t.breaker.execute(ok);
    await t.breaker.execute(ok);
    expect(await t.breaker.getState()).toMatchObject({ state: 'HALF_OPEN', trialSuccesses: 2, trialsInFlight: 0 });
    await t.breaker.execute(ok);
    expect(await t.breaker.getState()).toMatchObject({ state: 'CLOSED', failures: 0, trialSuccesses: 0, reopenCount: 0 });
    expect(Object.keys(t.memory.rawItem(NAME) ?? {}).filter((k) => /^[fp]_/.test(k))).toEqual([]);
  });

  test('one failed trial reopens with the next backoff step; the sequence grows by the multiplier up to maxOpenMs', async () => {
    const t = setup({ backoffMultiplier: 2, openMs: 1_000, maxOpenMs: 5_000 });
    await openCircuit(t);
    const periods: number[] = [];
    for (let i = 0; i < 5; i++) {
      const before = await t.breaker.getState();
      t.clock.time = before.openUntil as number;
      await failTimes(t.breaker, 1);
      const after = await t.breaker.getState();
      expect(after.state).toBe('OPEN');
      periods.push((after.openUntil as number) - t.clock.time);
    }
    expect(periods).toEqual([2_000, 4_000, 5_000, 5_000, 5_000]);
    expect(t.stateChanges().filter((c) => c === 'HALF_OPEN->OPEN:trialFailed')).toHaveLength(5);
    // a close resets the backoff: the next opening is openMs again
    t.clock.time = (await t.breaker.getState()).openUntil as number;
    await t.breaker.execute(ok);
    await t.breaker.execute(ok);
    await failTimes(t.breaker, 3);
    const reopened = await t.breaker.getState();
    expect(reopened).toMatchObject({ state: 'OPEN', reopenCount: 0 });
    expect((reopened.openUntil as number) - t.clock.time).toBe(1_000);
  });

  test('jitter shortens the open period by at most jitterRatio', async () => {
    for (const [random, expected] of [
      [0, 1_000],
      [0.5, 900],
      [0.999999, 800],
    ] as const) {
      const t = setup({ jitterRatio: 0.2, random: () => random });
      await openCircuit(t);
      expect(((await t.breaker.getState()).openUntil as number) - t.clock.time).toBe(expected);
    }
  });

  test('a slow trial counts as a failed trial', async () => {
    const t = setup();
    await openCircuit(t);
    t.clock.advance(1_000);
    await t.breaker.execute(async () => {
      t.clock.advance(300);
      return 'slow';
    });
    expect((await t.breaker.getState()).state).toBe('OPEN');
  });

  test('an exempt error (isFailure false) gives the permit back without counting either way', async () => {
    const t = setup({ halfOpenMaxCalls: 1, isFailure: (error) => !(error instanceof RangeError) });
    await openCircuit(t);
    t.clock.advance(1_000);
    await expect(t.breaker.execute(() => Promise.reject(new RangeError('404')))).rejects.toThrow(RangeError);
    expect(await t.breaker.getState()).toMatchObject({ state: 'HALF_OPEN', trialsInFlight: 0, trialSuccesses: 0 });
  });

  test('a planted malformed item emits itemRepaired when rewritten', async () => {
    const t = setup();
    t.memory.putRawItem(NAME, { state: 'SIDEWAYS', version: 4 });
    await failTimes(t.breaker, 1);
    expect(t.events.find((e) => e.type === 'itemRepaired')).toMatchObject({ problems: ['state "SIDEWAYS" is not a circuit state'] });
  });

  test('a permit is a lease: a frozen holder does not wedge the circuit, and its late success does not count', async () => {
    const shared = { memory: new MemoryStateStore(), clock: new ManualClock() };
    const frozen = setup({ halfOpenMaxCalls: 1, halfOpenSuccessThreshold: 1, timeoutMs: 60_000, slowCallMs: 60_000 }, shared);
    const other = setup({ halfOpenMaxCalls: 1, halfOpenSuccessThreshold: 1, timeoutMs: 60_000, slowCallMs: 60_000 }, shared);
    await openCircuit(frozen);
    shared.clock.advance(1_000);
    const gate = deferred<string>();
    const frozenCall = frozen.breaker.execute(() => gate.promise);
    await new Promise(setImmediate);
    await expect(other.breaker.execute(ok)).rejects.toMatchObject({ state: 'HALF_OPEN' });
    shared.clock.advance(60_100); // lease = timeoutMs + permitLeaseMarginMs, still held at its last ms
    await expect(other.breaker.execute(ok)).rejects.toMatchObject({ state: 'HALF_OPEN' });
    shared.clock.advance(1);
    const reopenedFail = deferred<string>();
    const trial = other.breaker.execute(() => reopenedFail.promise);
    await new Promise(setImmediate);
    gate.resolve('late'); // the frozen holder wakes up: its lease was taken, so its (slow) outcome does not count
    await frozenCall;
    expect(await other.breaker.getState()).toMatchObject({ state: 'HALF_OPEN', trialSuccesses: 0, trialsInFlight: 1 });
    reopenedFail.resolve('ok');
    await trial;
    expect((await other.breaker.getState()).state).toBe('CLOSED');
  });

  test('a frozen holder whose lease was taken cannot reopen the circuit with a late failure', async () => {
    const shared = { memory: new MemoryStateStore(), clock: new ManualClock() };
    const frozen = setup({ halfOpenMaxCalls: 1 }, shared);
    const other = setup({ halfOpenMaxCalls: 1 }, shared);
    await openCircuit(frozen);
    shared.clock.advance(1_000);
    const gate = deferred<string>();
    const frozenCall = frozen.breaker.execute(() => gate.promise);
    await new Promise(setImmediate);
    shared.clock.advance(601); // past the lease (timeoutMs 500 + margin 100)
    const otherGate = deferred<string>();
    const otherTrial = other.breaker.execute(() => otherGate.promise);
    await new Promise(setImmediate);
    gate.reject(new Error('late failure'));
    await expect(frozenCall).rejects.toThrow('late failure');
    expect(await other.breaker.getState()).toMatchObject({ state: 'HALF_OPEN', trialsInFlight: 1 });
    otherGate.resolve('ok');
    await otherTrial;
  });

  test('a late trial failure cannot reopen a circuit that has moved on', async () => {
    const shared = { memory: new MemoryStateStore(), clock: new ManualClock() };
    const a = setup({ halfOpenSuccessThreshold: 1 }, shared);
    const b = setup({ halfOpenSuccessThreshold: 1 }, shared);
    await openCircuit(a);
    shared.clock.advance(1_000);
    const gate = deferred<string>();
    const slowTrial = a.breaker.execute(() => gate.promise);
    await new Promise(setImmediate);
    await b.breaker.execute(ok); // second slot: succeeds and closes
    expect((await b.breaker.getState()).state).toBe('CLOSED');
    gate.reject(new Error('late failure'));
    await expect(slowTrial).rejects.toThrow('late failure');
    expect((await b.breaker.getState()).state).toBe('CLOSED');
  });
});

describe('operator overrides act on the shared state', () => {
  test('forceOpen rejects on every instance until reset', async () => {
    const shared = { memory: new MemoryStateStore(), clock: new ManualClock() };
    const operator = setup({}, shared);
    const worker = setup({}, shared);
    await worker.breaker.execute(ok);
    await operator.breaker.forceOpen();
    shared.clock.advance(1_000); // the worker's cache expires
    await expect(worker.breaker.execute(ok)).rejects.toMatchObject({ state: 'FORCED_OPEN' });
    shared.clock.advance(1_000_000);
    await expect(worker.breaker.execute(ok)).rejects.toMatchObject({ state: 'FORCED_OPEN' });
    await operator.breaker.reset();
    shared.clock.advance(1_000);
    await expect(worker.breaker.execute(ok)).resolves.toBe('ok');
    expect(operator.stateChanges()).toEqual(['CLOSED->FORCED_OPEN:forceOpen', 'FORCED_OPEN->CLOSED:reset']);
  });

  test('FORCED_OPEN promises no end: retryAfterMs is null in the snapshot and in the rejection', async () => {
    const t = setup();
    expect((await t.breaker.forceOpen()).retryAfterMs).toBeNull();
    await expect(t.breaker.execute(ok)).rejects.toMatchObject({ state: 'FORCED_OPEN', retryAfterMs: null });
    expect((await t.breaker.getState()).retryAfterMs).toBeNull();
  });

  test('disable lets everything through and keeps counting, never opening; reset clears the counts', async () => {
    const t = setup();
    await t.breaker.disable();
    await failTimes(t.breaker, 10);
    expect(await t.breaker.getState()).toMatchObject({ state: 'DISABLED', failures: 10 });
    const snapshot = await t.breaker.reset();
    expect(snapshot).toMatchObject({ state: 'CLOSED', failures: 0 });
  });

  test('reset closes an open circuit and clears its backoff', async () => {
    const t = setup();
    await openCircuit(t);
    await t.breaker.reset();
    await expect(t.breaker.execute(ok)).resolves.toBe('ok');
    expect(await t.breaker.getState()).toMatchObject({ state: 'CLOSED', reopenCount: 0, failures: 0 });
  });

  test('forceOpen during half-open revokes the permits: in-flight trials cannot close the circuit', async () => {
    const t = setup({ halfOpenSuccessThreshold: 1 });
    await openCircuit(t);
    t.clock.advance(1_000);
    const gate = deferred<string>();
    const trial = t.breaker.execute(() => gate.promise);
    await new Promise(setImmediate);
    await t.breaker.forceOpen();
    gate.resolve('ok');
    await trial;
    expect((await t.breaker.getState()).state).toBe('FORCED_OPEN');
  });
});

describe('the store is not a single point of failure', () => {
  test("onStoreError 'allow': an unreachable store lets the call through and emits storeError", async () => {
    const t = setup({ onStoreError: 'allow' });
    t.store.fault = 'error';
    const fn = jest.fn(ok);
    await expect(t.breaker.execute(fn)).resolves.toBe('ok');
    expect(fn).toHaveBeenCalled();
    expect(t.store.calls.read).toBe(2); // storeMaxAttempts
    expect(t.events.find((e) => e.type === 'storeError')).toMatchObject({ operation: 'read', policy: 'allow' });
  });

  test("onStoreError 'deny': an unreachable store rejects with CircuitOpenError(STORE_UNAVAILABLE)", async () => {
    const t = setup({ onStoreError: 'deny' });
    t.store.fault = 'error';
    const fn = jest.fn(ok);
    await expect(t.breaker.execute(fn)).rejects.toMatchObject({ name: 'CircuitOpenError', state: 'STORE_UNAVAILABLE' });
    expect(fn).not.toHaveBeenCalled();
  });

  test('after a store failure the instance does not wait on the store again for stateCacheMs', async () => {
    const t = setup();
    t.store.fault = 'error';
    await t.breaker.execute(ok);
    t.store.resetCounts();
    await t.breaker.execute(ok);
    await failTimes(t.breaker, 1);
    expect(t.store.total()).toBe(0);
    t.store.fault = undefined;
    t.clock.advance(1_000);
    await t.breaker.execute(ok);
    expect(t.store.calls.read).toBe(1);
  });

  test('a failing outcome write never hides the call result', async () => {
    const t = setup();
    await t.breaker.execute(ok);
    t.store.fault = 'error';
    await expect(t.breaker.execute(boom)).rejects.toThrow('downstream failed');
    expect(t.events.find((e) => e.type === 'storeError')).toMatchObject({ operation: 'recordCount' });
  });

  describe('with a store that never answers', () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'Date', 'setImmediate'] }));
    afterEach(() => jest.useRealTimers());

    test('the caller waits at most storeTimeoutMs x storeMaxAttempts, and each attempt is aborted', async () => {
      const t = setup({ storeTimeoutMs: 100, storeMaxAttempts: 3 });
      t.store.fault = 'hang';
      const fn = jest.fn(ok);
      const call = t.breaker.execute(fn);
      await jest.advanceTimersByTimeAsync(299);
      expect(fn).not.toHaveBeenCalled();
      await jest.advanceTimersByTimeAsync(1);
      await expect(call).resolves.toBe('ok');
      expect(t.store.abortedSignals).toHaveLength(3);
    });

    test('a failure count whose write timed out is not retried (it may have been applied): never counted twice', async () => {
      const t = setup({ storeTimeoutMs: 100, storeMaxAttempts: 3 });
      await t.breaker.execute(ok);
      t.store.fault = 'hang';
      t.store.faultFor.add('recordCount');
      const call = expect(t.breaker.execute(boom)).rejects.toThrow('downstream failed');
      await jest.advanceTimersByTimeAsync(100);
      await call;
      expect(t.store.calls.recordCount).toBe(1);
    });
  });
});

describe('malformed and missing items', () => {
  test.each([
    ['missing state and version', { f_1: 2 }],
    ['unknown state', { state: 'SIDEWAYS', version: 4 }],
    ['OPEN without openUntil', { state: 'OPEN', version: 2 }],
    ['version of the wrong type', { state: 'HALF_OPEN', version: 'seven', p_0: { exp: 1, tok: 'x' } }],
    ['a counter that is not a number', { state: 'CLOSED', version: 1, f_1: 'many' }],
  ])('%s: treated as closed, and repaired by the next write', async (_label, item) => {
    const t = setup();
    t.memory.putRawItem(NAME, item);
    await expect(t.breaker.execute(ok)).resolves.toBe('ok');
    expect((await t.breaker.getState()).problems.length).toBeGreaterThan(0);
    await failTimes(t.breaker, 1);
    const state = await t.breaker.getState();
    expect(state).toMatchObject({ state: 'CLOSED', problems: [], failures: 1 });
    expect(t.memory.rawItem(NAME)).toMatchObject({ state: 'CLOSED', version: expect.any(Number) });
    await failTimes(t.breaker, 2);
    expect((await t.breaker.getState()).state).toBe('OPEN');
  });

  test('a missing item is a closed circuit, created by the first failure', async () => {
    const t = setup();
    expect(await t.breaker.getState()).toMatchObject({ state: 'CLOSED', failures: 0, version: null, problems: [] });
    await failTimes(t.breaker, 1);
    expect(t.memory.rawItem(NAME)).toMatchObject({ id: NAME, state: 'CLOSED', version: 0 });
  });
});

describe('events', () => {
  test('a throwing or rejecting listener never breaks a call; unsubscribe stops delivery', async () => {
    const t = setup();
    t.breaker.onEvent(() => {
      throw new Error('listener bug');
    });
    t.breaker.onEvent((() => Promise.reject(new Error('async listener bug'))) as never);
    const seen: string[] = [];
    const unsubscribe = t.breaker.onEvent((e) => seen.push(e.type));
    await expect(t.breaker.execute(ok)).resolves.toBe('ok');
    await failTimes(t.breaker, 3);
    await expect(t.breaker.execute(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(seen).toEqual(['callCompleted', 'callCompleted', 'callCompleted', 'callCompleted', 'stateChange', 'rejected']);
    unsubscribe();
    await expect(t.breaker.execute(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(seen).toHaveLength(6);
  });
});

describe('cache', () => {
  test('a late response never replaces a newer state learned meanwhile', async () => {
    const t = setup({ failureThreshold: 1 });
    const realRead = t.memory.read.bind(t.memory);
    const held = deferred<void>();
    let first = true;
    t.memory.read = async (circuit, options) => {
      const record = await realRead(circuit, options);
      if (first) {
        first = false;
        await held.promise; // answered with the state of that moment, delivered late
      }
      return record;
    };
    const lateRead = t.breaker.getState();
    await failTimes(t.breaker, 1); // reads again, fails, opens
    held.resolve();
    expect((await lateRead).state).toBe('CLOSED');
    const fn = jest.fn(ok);
    await expect(t.breaker.execute(fn)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(fn).not.toHaveBeenCalled();
  });

  test('stateCacheMs 0 reads on every call', async () => {
    const t = setup({ stateCacheMs: 0, closedStateCacheMs: 0 });
    for (let i = 0; i < 3; i++) await t.breaker.execute(ok);
    expect(t.store.calls.read).toBe(3);
  });
});
