/**
 * The executor's count writes (CountRecorder): one write in flight per instance, concurrent outcomes coalesced into
 * one ADD, successes held and flushed with the state refresh, counts put back when certainly not written, and
 * ramp-up admission after a close. Injected clock, explicit gates; no sleeps.
 */
import { CircuitBreaker, CircuitOpenError, MemoryStateStore, type BreakerEvent, type CircuitBreakerOptions, type RecordCountRequest, type StateStore } from '../../../src/breaker';
import { ManualClock } from '../../support/breaker/clock';
import { deferred, type Deferred } from '../../support/breaker/deferred';
import { InstrumentedStore } from '../../support/breaker/storeDoubles';

const NAME = 'downstream';
const boom = () => Promise.reject(new Error('downstream failed'));
const ok = () => Promise.resolve('ok');
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Holds every recordCount until the test releases it (one gate per request, in order); can fail the next one. */
class GatedStore extends InstrumentedStore {
  readonly gates: Array<Deferred<void>> = [];
  gated = false;
  /** While set, every transition waits for it. */
  heldTransition?: Deferred<void>;
  /** The next recordCount answers with this error instead of writing (e.g. a throttle). */
  failNext?: Error;

  constructor(inner: StateStore) {
    const gating: StateStore = {
      read: (circuit, options) => inner.read(circuit, options),
      transition: async (circuit, request, options) => {
        if (this.heldTransition) await this.heldTransition.promise;
        return inner.transition(circuit, request, options);
      },
      acquirePermit: (circuit, request, options) => inner.acquirePermit(circuit, request, options),
      releasePermit: (circuit, request, options) => inner.releasePermit(circuit, request, options),
      recordTrialSuccess: (circuit, request, options) => inner.recordTrialSuccess(circuit, request, options),
      recordCount: async (circuit, request, options) => {
        if (this.failNext) {
          const error = this.failNext;
          this.failNext = undefined;
          throw error;
        }
        if (this.gated) {
          const gate = deferred();
          this.gates.push(gate);
          await gate.promise;
        }
        return inner.recordCount(circuit, request, options);
      },
    };
    super(gating);
  }

  counts(): RecordCountRequest[] {
    return this.requests.filter((r) => r.operation === 'recordCount').map((r) => r.request as RecordCountRequest);
  }
}

function setup(options: Partial<CircuitBreakerOptions> = {}, shared?: { memory: MemoryStateStore; clock: ManualClock }) {
  const memory = shared?.memory ?? new MemoryStateStore();
  const clock = shared?.clock ?? new ManualClock();
  const store = new GatedStore(memory);
  const breaker = new CircuitBreaker({ name: NAME, store, timeoutMs: 5_000, storeTimeoutMs: 60_000, random: () => 0, now: clock.now, ...options });
  const events: BreakerEvent[] = [];
  breaker.onEvent((event) => events.push(event));
  return { memory, clock, store, breaker, events };
}

const settled = (promises: Array<Promise<unknown>>) => Promise.allSettled(promises);
const sum = (increments: Record<string, number>, kind: 'f' | 's') =>
  Object.entries(increments)
    .filter(([name]) => name.startsWith(`${kind}_`))
    .reduce((total, [, n]) => total + n, 0);

describe('one count write in flight per instance', () => {
  test('count policy: failures arriving while a write is in flight share the next write (ADD n), none lost', async () => {
    const t = setup({ failureThreshold: 1_000 });
    await t.breaker.execute(ok); // learn the state (one read)
    t.store.gated = true;
    const first = t.breaker.execute(boom).catch((error: unknown) => error);
    await settle();
    expect(t.store.gates).toHaveLength(1);
    const burst = Array.from({ length: 7 }, () => t.breaker.execute(boom).catch((error: unknown) => error));
    await settle();
    // Still one write in flight: the burst waits in the accumulator.
    expect(t.store.calls.recordCount).toBe(1);
    t.store.gates[0].resolve();
    await settle();
    expect(t.store.calls.recordCount).toBe(2);
    t.store.gates[1].resolve();
    await settled([first, ...burst]);
    expect(t.store.counts().map((request) => sum(request.increments, 'f'))).toEqual([1, 7]);
    expect(await t.breaker.getState()).toMatchObject({ state: 'CLOSED', failures: 8 });
  });

  test('the burst that reaches the threshold opens once, and only one caller is told it opened the circuit', async () => {
    const t = setup({ failureThreshold: 5 });
    await t.breaker.execute(ok);
    t.store.gated = true;
    const told: number[] = [];
    const onSettled = ({ openUntil }: { openUntil?: number }) => openUntil !== undefined && told.push(openUntil);
    const calls = Array.from({ length: 6 }, () => t.breaker.execute(boom, { onSettled }).catch((error: unknown) => error));
    await settle();
    t.store.gates[0].resolve();
    await settle();
    t.store.gates[1].resolve();
    await settled(calls);
    expect(t.store.calls.recordCount).toBe(2);
    expect(told).toHaveLength(1);
    expect(t.events.filter((e) => e.type === 'stateChange' && e.to === 'OPEN')).toHaveLength(1);
    expect(await t.breaker.getState()).toMatchObject({ state: 'OPEN', openReason: 'failureThreshold', openFailures: 6 });
  });
});

describe('rate policy: successes are held and flushed with the refresh', () => {
  // closedStateCacheMs as stateCacheMs: these tests count refreshes per second (issue 11's longer closed cache apart).
  const rate = { failureRateThreshold: 0.5, minimumCalls: 10, windowMs: 60_000, stateCacheMs: 1_000, closedStateCacheMs: 1_000, countFlushMs: 5_000 };

  test('no request while the cache is fresh; at most one per refresh; the due refresh is the flush (it returns the item)', async () => {
    const t = setup(rate);
    await t.breaker.execute(ok); // first call: a read (nothing held yet)
    for (let i = 0; i < 50; i++) await t.breaker.execute(ok);
    expect(t.store.calls).toMatchObject({ read: 1, recordCount: 0 });
    for (let step = 1; step <= 4; step++) {
      t.clock.advance(1_000);
      for (let i = 0; i < 10; i++) await t.breaker.execute(ok);
      // Cache expired: one refresh, a read (the oldest held success is not countFlushMs old yet).
      expect(t.store.calls).toMatchObject({ read: 1 + step, recordCount: 0 });
    }
    t.clock.advance(1_000);
    await t.breaker.execute(ok);
    // 5 s after the first held success: this refresh is the flush, and no read is made for it.
    expect(t.store.calls).toMatchObject({ read: 5, recordCount: 1 });
    expect(sum(t.store.counts()[0].increments, 's')).toBe(91);
    expect(await t.breaker.getState()).toMatchObject({ state: 'CLOSED', calls: 91, failures: 0, failureRate: 0 });
  });

  test('a failure write carries every success held, in one ADD', async () => {
    const t = setup(rate);
    for (let i = 0; i < 30; i++) await t.breaker.execute(ok);
    await expect(t.breaker.execute(boom)).rejects.toThrow('downstream failed');
    expect(t.store.calls.recordCount).toBe(1);
    const [request] = t.store.counts();
    expect([sum(request.increments, 's'), sum(request.increments, 'f')]).toEqual([30, 1]);
  });

  test('the failure whose write reaches the rate opens, recording failureRate with the numbers it saw', async () => {
    const t = setup({ ...rate, countFlushMs: 0, stateCacheMs: 0 });
    for (let i = 0; i < 5; i++) await t.breaker.execute(ok);
    for (let i = 0; i < 4; i++) await expect(t.breaker.execute(boom)).rejects.toThrow();
    expect(await t.breaker.getState()).toMatchObject({ state: 'CLOSED', calls: 9, failures: 4 });
    await expect(t.breaker.execute(boom)).rejects.toThrow(); // 5 of 10
    expect(await t.breaker.getState()).toMatchObject({ state: 'OPEN', openReason: 'failureRate', openFailures: 5, openCalls: 10 });
    expect(t.events.filter((e) => e.type === 'stateChange' && e.to === 'OPEN').map((e) => (e as { reason: string }).reason)).toEqual(['failureRate']);
  });

  test('two instances reaching the rate at once: exactly one opens', async () => {
    const memory = new MemoryStateStore();
    const clock = new ManualClock();
    const a = setup({ ...rate, countFlushMs: 0, stateCacheMs: 0 }, { memory, clock });
    const b = setup({ ...rate, countFlushMs: 0, stateCacheMs: 0 }, { memory, clock });
    for (let i = 0; i < 4; i++) await a.breaker.execute(ok);
    for (let i = 0; i < 4; i++) await expect(b.breaker.execute(boom)).rejects.toThrow();
    await settled([a.breaker.execute(boom), b.breaker.execute(boom), a.breaker.execute(boom), b.breaker.execute(boom)]);
    const opens = [...a.events, ...b.events].filter((e) => e.type === 'stateChange' && e.to === 'OPEN');
    expect(opens).toHaveLength(1);
    expect(await a.breaker.getState()).toMatchObject({ state: 'OPEN', openReason: 'failureRate' });
  });

  test('a throttled write puts its counts back and is sent again after a backoff step (calls held meanwhile), none counted twice', async () => {
    const t = setup({ ...rate, storeMaxAttempts: 1 });
    for (let i = 0; i < 20; i++) await t.breaker.execute(ok);
    t.store.failNext = Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
    await expect(t.breaker.execute(boom)).rejects.toThrow('downstream failed');
    // Its failure count waits for the retry: this instance holds its calls.
    await expect(t.breaker.execute(ok)).rejects.toMatchObject({ state: 'STORE_THROTTLED' });
    t.clock.advance(1_000); // past the backoff step: the next call sends the retry first
    await expect(t.breaker.execute(boom)).rejects.toThrow('downstream failed');
    const [throttled, retry, next] = t.store.counts();
    expect([sum(throttled.increments, 's'), sum(throttled.increments, 'f')]).toEqual([20, 1]);
    expect([sum(retry.increments, 's'), sum(retry.increments, 'f')]).toEqual([20, 1]);
    expect([sum(next.increments, 's'), sum(next.increments, 'f')]).toEqual([0, 1]);
    expect(await t.breaker.getState()).toMatchObject({ calls: 22, failures: 2 });
  });

  test('a write that may have been applied (store error) is dropped, never sent again', async () => {
    const t = setup({ ...rate, storeMaxAttempts: 1 });
    for (let i = 0; i < 20; i++) await t.breaker.execute(ok);
    t.store.failNext = Object.assign(new Error('connection reset'), { name: 'InternalServerError' });
    await expect(t.breaker.execute(boom)).rejects.toThrow('downstream failed');
    t.clock.advance(1_000);
    await expect(t.breaker.execute(boom)).rejects.toThrow('downstream failed');
    const [, next] = t.store.counts();
    expect([sum(next.increments, 's'), sum(next.increments, 'f')]).toEqual([0, 1]);
  });

  test('a refresh that flushes answers the call as soon as its write returns the item, not after the repair it leads to', async () => {
    const t = setup(rate);
    for (let i = 0; i < 10; i++) await t.breaker.execute(ok);
    // Someone left a malformed item: the flush's answer says so, and the repair that follows hangs.
    t.memory.putRawItem(NAME, { id: NAME, state: 'CLOSED', version: 1.5 });
    t.store.heldTransition = deferred();
    t.clock.advance(5_000);
    const fn = jest.fn(ok);
    await expect(t.breaker.execute(fn)).resolves.toBe('ok'); // would wait for the held repair otherwise
    expect(fn).toHaveBeenCalledTimes(1);
    expect(t.store.calls).toMatchObject({ recordCount: 1, transition: 1 });
    t.store.heldTransition.resolve();
    await settle();
    expect(t.events.filter((e) => e.type === 'itemRepaired')).toHaveLength(1);
  });

  test('a count that was stored stays counted once when what follows it fails (a throttled repair): never put back', async () => {
    const t = setup({ ...rate, storeMaxAttempts: 1 });
    for (let i = 0; i < 10; i++) await t.breaker.execute(ok);
    // A malformed item: the count is applied (version null condition), the repair that follows is throttled.
    t.memory.putRawItem(NAME, { id: NAME, state: 'CLOSED', version: 'x', f_0: 'bad' });
    const transition = t.store.transition;
    t.store.transition = () => Promise.reject(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    await expect(t.breaker.execute(boom)).rejects.toThrow('downstream failed');
    t.store.transition = transition;
    t.clock.advance(1_000);
    await expect(t.breaker.execute(boom)).rejects.toThrow('downstream failed');
    const [first, second] = t.store.counts();
    expect([sum(first.increments, 's'), sum(first.increments, 'f')]).toEqual([10, 1]);
    expect([sum(second.increments, 's'), sum(second.increments, 'f')]).toEqual([0, 1]);
  });

  test('successes held across an opening are dropped, not flushed into the next closed period', async () => {
    const memory = new MemoryStateStore();
    const clock = new ManualClock();
    const a = setup(rate, { memory, clock });
    const ops = setup(rate, { memory, clock });
    for (let i = 0; i < 30; i++) await a.breaker.execute(ok);
    await ops.breaker.forceOpen();
    await ops.breaker.reset();
    clock.advance(5_000);
    // a's cache expired and its flush is due: the flush is refused (a new period), its successes are not counted.
    await a.breaker.execute(ok);
    expect(await a.breaker.getState()).toMatchObject({ state: 'CLOSED', calls: 0 });
  });
});

describe('ramp-up after a close', () => {
  test('a call not drawn is rejected as RAMPING_UP (never calls the downstream); the admitted share grows to all', async () => {
    let draw = 0.5;
    const t = setup({ failureThreshold: 1, openMs: 1_000, halfOpenMaxCalls: 1, halfOpenSuccessThreshold: 1, rampUpMs: 10_000, rampUpStartFraction: 0.2, random: () => draw });
    await expect(t.breaker.execute(boom)).rejects.toThrow();
    t.clock.advance(1_000);
    await t.breaker.execute(ok); // the trial closes it
    expect(await t.breaker.getState()).toMatchObject({ state: 'CLOSED', closedAt: t.clock.now(), rampUpFraction: 0.2 });

    const fn = jest.fn(ok);
    const rejected = await t.breaker.execute(fn).catch((error: unknown) => error);
    expect(rejected).toBeInstanceOf(CircuitOpenError);
    expect(rejected).toMatchObject({ state: 'RAMPING_UP', retryAfterMs: 10_000 });
    expect(fn).not.toHaveBeenCalled();

    t.clock.advance(5_000); // 60 % admitted now
    await expect(t.breaker.execute(fn)).resolves.toBe('ok');
    draw = 0.7;
    await expect(t.breaker.execute(fn)).rejects.toMatchObject({ state: 'RAMPING_UP', retryAfterMs: 5_000 });
    t.clock.advance(5_000);
    draw = 0.99;
    await expect(t.breaker.execute(fn)).resolves.toBe('ok');
    expect(await t.breaker.getState()).not.toHaveProperty('rampUpFraction');
  });

  test('a failure rate over the threshold during the ramp reopens the circuit as usual', async () => {
    const t = setup({
      failureRateThreshold: 0.5,
      minimumCalls: 10,
      countFlushMs: 0,
      stateCacheMs: 0,
      closedStateCacheMs: 0,
      openMs: 1_000,
      halfOpenMaxCalls: 1,
      halfOpenSuccessThreshold: 1,
      rampUpMs: 60_000,
      rampUpStartFraction: 0.5,
      random: () => 0, // every call drawn
    });
    for (let i = 0; i < 10; i++) await expect(t.breaker.execute(boom)).rejects.toThrow();
    t.clock.advance(1_000);
    await t.breaker.execute(ok); // the trial closes it; the ramp starts
    expect(await t.breaker.getState()).toMatchObject({ state: 'CLOSED', rampUpFraction: 0.5 });
    for (let i = 0; i < 10; i++) await expect(t.breaker.execute(boom)).rejects.toThrow('downstream failed');
    expect(await t.breaker.getState()).toMatchObject({ state: 'OPEN', openReason: 'failureRate', openFailures: 10, openCalls: 10 });
    expect(t.events.filter((e) => e.type === 'stateChange' && e.to === 'OPEN')).toHaveLength(2);
  });
});
