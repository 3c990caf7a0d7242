/**
 * Issue 11 in unit form: store errors by kind, backoff on throttling, cache durations, and the local mode's
 * transitions. Memory store and injected clocks (no time passes; retries ride on calls).
 */
import { CircuitBreaker, CircuitOpenError, MemoryStateStore, StateStoreError, StoreTimeoutError, type BreakerEvent, type CircuitBreakerOptions } from '../../../src/breaker';
import { cacheDuration } from '../../../src/breaker/refreshSchedule';
import { classifyStoreError, provesNotApplied } from '../../../src/breaker/storeErrors';
import { MAX_THROTTLED_RETRIES, throttleRetryDelay } from '../../../src/breaker/throttleBackoff';
import { ThrottledWrites } from '../../../src/breaker/ThrottledWrites';
import { ManualClock } from '../../support/breaker/clock';
import { InstrumentedStore } from '../../support/breaker/storeDoubles';

const NAME = 'directory';
const named = (name: string, extra: object = {}) => Object.assign(new Error(name), { name, ...extra });

describe('classifyStoreError', () => {
  test.each([
    [named('ProvisionedThroughputExceededException'), 'throttled'],
    [named('ThrottlingException'), 'throttled'],
    [named('RequestLimitExceeded'), 'throttled'],
    [new StateStoreError('c', 'read', named('ProvisionedThroughputExceededException')), 'throttled'],
    [named('ValidationException'), 'notApplied'],
    [named('ResourceNotFoundException'), 'notApplied'],
    [named('LimitExceededException'), 'notApplied'],
    [new StoreTimeoutError(250), 'unreachable'],
    [new StateStoreError('c', 'recordCount', new StoreTimeoutError(250)), 'unreachable'],
    [named('Error', { code: 'ECONNREFUSED' }), 'unreachable'],
    [named('Error', { code: 'ECONNRESET' }), 'unreachable'],
    [named('TimeoutError'), 'unreachable'],
    [named('InternalServerError'), 'unreachable'],
    [named('SomethingElse', { $metadata: { httpStatusCode: 503 } }), 'unreachable'],
    [new Error('AWS SDK error wrapper for TimeoutError: socket hang up'), 'unreachable'],
    [new Error('AWS SDK error wrapper for ThrottlingException: slow down'), 'throttled'],
    [new Error('something odd'), 'unknown'],
    ['a string', 'unknown'],
    [undefined, 'unknown'],
  ])('%p is %s', (error, kind) => {
    expect(classifyStoreError(error)).toBe(kind);
  });

  test('only throttled and notApplied prove a write was not applied (an ADD may be sent again)', () => {
    expect(['throttled', 'notApplied', 'unreachable', 'unknown'].filter((k) => provesNotApplied(k as never))).toEqual(['throttled', 'notApplied']);
  });
});

describe('throttleRetryDelay: exponential backoff with jitter', () => {
  test.each([
    [0, 0, 50],
    [0, 0.999999, 100],
    [1, 0, 100],
    [3, 0, 400],
    [3, 0.5, 600],
    [6, 1, 5_000], // capped: 100 * 2^6 = 6,400 > 5,000
    [30, 0, 2_500],
  ])('attempt %d, random %d -> %d ms', (attempt, random, delay) => {
    expect(throttleRetryDelay(attempt, () => random)).toBe(Math.round(delay));
  });

  test('a broken random gives the step without jitter, never NaN', () => {
    expect(throttleRetryDelay(2, () => Number.NaN)).toBe(200);
    expect(
      throttleRetryDelay(2, () => {
        throw new Error('no');
      }),
    ).toBe(200);
  });
});

describe('cacheDuration: refresh schedule', () => {
  const settings = { stateCacheMs: 1_000, closedStateCacheMs: 5_000, jitterRatio: 0.2 };
  test.each([
    ['CLOSED', 0, 5_000],
    ['CLOSED', 1, 4_000],
    ['HALF_OPEN', 0, 1_000],
    ['FORCED_OPEN', 0.5, 900],
    ['DISABLED', 0, 1_000],
  ] as const)('%s with random %d: %d ms', (state, random, ms) => {
    expect(cacheDuration(state, settings, () => random)).toBe(ms);
  });
  test('OPEN: the per-instance probe delay after the open period, up to stateCacheMs', () => {
    expect(cacheDuration('OPEN', settings, () => 0)).toBe(0);
    expect(cacheDuration('OPEN', settings, () => 0.25)).toBe(250);
  });
  test('0 means always read, whatever the jitter', () => {
    expect(cacheDuration('CLOSED', { ...settings, closedStateCacheMs: 0 }, () => 0.5)).toBe(0);
  });
});

describe('ThrottledWrites', () => {
  const throttle = () => named('ProvisionedThroughputExceededException');

  test('a throttled write becomes due after growing delays and is sent by the next run after that, until answered', async () => {
    const clock = new ManualClock();
    const writes = new ThrottledWrites(clock.now, () => 0);
    let answers = 0;
    const send = jest.fn(async () => {
      if (answers++ < 2) throw throttle();
    });
    writes.retryLater('count:1', { payload: undefined, send, hold: true });
    expect(writes.nextDueAt()).toBe(clock.now() + 50);
    expect(writes.holdFor(clock.now())).toBe(50);
    await writes.runDue(clock.now() + 49);
    expect(send).not.toHaveBeenCalled(); // not at once, not early
    clock.advance(50);
    await writes.runDue(clock.now());
    expect(writes.nextDueAt()).toBe(clock.now() + 100); // throttled again: twice the step
    clock.advance(100);
    await writes.runDue(clock.now());
    expect(writes.nextDueAt()).toBe(clock.now() + 200);
    clock.advance(200);
    await writes.runDue(clock.now());
    expect(send).toHaveBeenCalledTimes(3);
    expect(writes.keys()).toEqual([]);
    expect(writes.holdFor(clock.now())).toBe(0);
  });

  test('writes of one key merge into one retry (ADD n), and only a held write holds calls', async () => {
    const clock = new ManualClock();
    const writes = new ThrottledWrites(clock.now, () => 0);
    const sent: Array<Record<string, number>> = [];
    const send = async (payload: Record<string, number>) => {
      sent.push(payload);
    };
    const merge = (a: Record<string, number>, b: Record<string, number>) => ({ ...a, f_1: (a.f_1 ?? 0) + (b.f_1 ?? 0) });
    writes.retryLater('count:1', { payload: { f_1: 1 }, send, merge, hold: false });
    expect(writes.holdFor(clock.now())).toBe(0);
    writes.retryLater('count:1', { payload: { f_1: 1 }, send, merge, hold: true });
    writes.retryLater('count:1', { payload: { f_1: 1 }, send, merge, hold: true });
    expect(writes.keys()).toEqual(['count:1']);
    expect(writes.holdFor(clock.now())).toBeGreaterThan(0);
    clock.advance(100);
    await Promise.all([writes.runDue(clock.now()), writes.runDue(clock.now())]); // concurrent calls share one run
    expect(sent).toEqual([{ f_1: 3 }]);
  });

  test('gives up after MAX_THROTTLED_RETRIES throttled retries, and on any other error at once', async () => {
    const clock = new ManualClock();
    const writes = new ThrottledWrites(clock.now, () => 0);
    const throttled = jest.fn(async () => {
      throw throttle();
    });
    writes.retryLater('a', { payload: undefined, send: throttled, hold: true });
    for (let i = 0; i < MAX_THROTTLED_RETRIES + 2; i++) {
      clock.advance(10_000);
      await writes.runDue(clock.now());
    }
    expect(throttled).toHaveBeenCalledTimes(MAX_THROTTLED_RETRIES);
    expect(writes.holdFor(clock.now())).toBe(0);

    const down = jest.fn(async () => {
      throw named('InternalServerError');
    });
    writes.retryLater('b', { payload: undefined, send: down, hold: true });
    clock.advance(10_000);
    await writes.runDue(clock.now());
    clock.advance(10_000);
    await writes.runDue(clock.now());
    expect(down).toHaveBeenCalledTimes(1);
    expect(writes.keys()).toEqual([]);
  });
});

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
      maxOpenMs: 4_000,
      halfOpenMaxCalls: 2,
      halfOpenSuccessThreshold: 1,
      timeoutMs: 500,
      slowCallMs: 200,
      permitLeaseMarginMs: 100,
      stateCacheMs: 1_000,
      closedStateCacheMs: 5_000,
      random: () => 0,
      now: clock.now,
      ...overrides,
  });
  const events: BreakerEvent[] = [];
  breaker.onEvent((event) => events.push(event));
  const of = <T extends BreakerEvent['type']>(type: T) => events.filter((e): e is Extract<BreakerEvent, { type: T }> => e.type === type);
  return { memory, clock, store, breaker, events, of };
}

const ok = async () => 'ok';
let downstreamCalls = 0;
const dead = async (): Promise<string> => {
  downstreamCalls++;
  throw new Error('directory down');
};
beforeEach(() => {
  downstreamCalls = 0;
});

describe('refreshes', () => {
  test('are eventually consistent reads; getState() stays strongly consistent', async () => {
    const t = setup();
    const reads: unknown[] = [];
    const read = t.store.read;
    t.store.read = (circuit, options) => {
      reads.push(options.consistent);
      return read(circuit, options);
    };
    await t.breaker.execute(ok);
    await t.breaker.getState();
    expect(reads).toEqual([false, true]);
  });

  test('a CLOSED state is trusted for closedStateCacheMs, other states for stateCacheMs', async () => {
    const t = setup();
    await t.breaker.execute(ok);
    t.clock.advance(4_999);
    await t.breaker.execute(ok);
    expect(t.store.calls.read).toBe(1);
    t.clock.advance(1);
    await t.breaker.execute(ok);
    expect(t.store.calls.read).toBe(2);
  });

  test('the closed cache delays an operator: a closed instance obeys forceOpen() once its closed cache expires', async () => {
    const shared = { memory: new MemoryStateStore(), clock: new ManualClock() };
    const worker = setup({}, shared);
    const operator = setup({}, shared);
    await worker.breaker.execute(ok);
    await operator.breaker.forceOpen();
    shared.clock.advance(1_000);
    await expect(worker.breaker.execute(ok)).resolves.toBe('ok'); // still trusting CLOSED
    shared.clock.advance(4_000);
    await expect(worker.breaker.execute(ok)).rejects.toMatchObject({ state: 'FORCED_OPEN' });
  });

  test('a throttled refresh keeps using the cached state: no local mode, no call let through blindly', async () => {
    const t = setup();
    await expect(t.breaker.execute(dead)).rejects.toThrow('directory down');
    await expect(t.breaker.execute(dead)).rejects.toThrow('directory down');
    await expect(t.breaker.execute(dead)).rejects.toThrow('directory down'); // opens
    t.clock.advance(500);
    t.store.fault = 'throttle';
    t.store.faultFor.add('read');
    await expect(t.breaker.execute(dead)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(downstreamCalls).toBe(3);
    expect(t.of('localMode')).toEqual([]);
  });
});

describe('half-open rounds', () => {
  test('after the open period, instances read before probing: only the first writes, the others read HALF_OPEN', async () => {
    const shared = { memory: new MemoryStateStore(), clock: new ManualClock() };
    const instances = Array.from({ length: 5 }, () => setup({ random: () => 0.5, halfOpenMaxCalls: 1 }, shared));
    const [first] = instances;
    for (let i = 0; i < 3; i++) await expect(first.breaker.execute(dead)).rejects.toThrow();
    // Every instance learns the OPEN state (each one's next call is rejected).
    for (const t of instances) await expect(t.breaker.execute(ok)).rejects.toMatchObject({ state: 'OPEN' });
    for (const t of instances) t.store.resetCounts();
    // The open period (1 s shortened by 0.5 x jitterRatio 0.2: 900 ms) ends, and each instance's probe delay (500 ms).
    shared.clock.advance(1_400);
    const gate = new Promise<string>(() => undefined); // the trial stays in flight
    const trial = instances[0].breaker.execute(() => gate).catch(() => undefined);
    await new Promise(setImmediate);
    for (const t of instances.slice(1)) await expect(t.breaker.execute(ok)).rejects.toMatchObject({ state: 'HALF_OPEN' });
    const writes = instances.reduce((sum, t) => sum + t.store.calls.transition + t.store.calls.acquirePermit, 0);
    // Old code: every instance whose cached open period ended sent its own probe write (5 writes, 4 refused).
    expect(writes).toBe(1);
    expect(instances.slice(1).every((t) => t.store.calls.read === 1)).toBe(true);
    await trial; // times out (500 ms) at the latest
  });
});

describe('throttled writes', () => {
  test('a throttled failure count is not retried at once; it waits with backoff, holds calls, and is written later', async () => {
    const t = setup();
    await t.breaker.execute(ok);
    t.store.fault = 'throttle';
    t.store.faultFor.add('recordCount');
    await expect(t.breaker.execute(dead)).rejects.toThrow('directory down');
    expect(t.store.calls.recordCount).toBe(1); // not sent again at once
    // Held: the fleet is busy writing the item, the downstream is failing; no more calls from here meanwhile.
    await expect(t.breaker.execute(dead)).rejects.toMatchObject({ state: 'STORE_THROTTLED', retryAfterMs: 50 });
    expect(downstreamCalls).toBe(1);
    expect(t.of('storeError')).toMatchObject([{ kind: 'throttled', mode: 'shared', operation: 'recordCount' }]);
    // 50 ms later the next call sends the retry first; throttled again, it waits twice as long, the call is held.
    t.clock.advance(50);
    await expect(t.breaker.execute(dead)).rejects.toMatchObject({ state: 'STORE_THROTTLED', retryAfterMs: 100 });
    expect(t.store.calls.recordCount).toBe(2);
    t.store.fault = undefined;
    t.clock.advance(100);
    await expect(t.breaker.execute(ok)).resolves.toBe('ok'); // the retry is written first, then this call runs
    expect(t.store.calls.recordCount).toBe(3);
    expect((await t.breaker.getState()).failures).toBe(1);
  });

  test('a waiting count whose retry reads the circuit OPEN is dropped without a write (it would be refused)', async () => {
    const shared = { memory: new MemoryStateStore(), clock: new ManualClock() };
    const t = setup({}, shared);
    const other = setup({}, shared);
    await t.breaker.execute(ok);
    t.store.fault = 'throttle';
    t.store.faultFor.add('recordCount');
    await expect(t.breaker.execute(dead)).rejects.toThrow('directory down');
    for (let i = 0; i < 3; i++) await expect(other.breaker.execute(dead)).rejects.toThrow('directory down'); // opens
    t.store.fault = undefined;
    t.clock.advance(50);
    await expect(t.breaker.execute(dead)).rejects.toMatchObject({ state: 'OPEN' });
    expect(t.store.calls.recordCount).toBe(1);
    expect(t.of('outcomeDiscarded')).toHaveLength(1);
    expect(downstreamCalls).toBe(4);
  });

  test('a throttled opening is sent again later, and the instance rejects meanwhile', async () => {
    const t = setup();
    await expect(t.breaker.execute(dead)).rejects.toThrow();
    await expect(t.breaker.execute(dead)).rejects.toThrow();
    t.store.fault = 'throttle';
    t.store.faultFor.add('transition');
    await expect(t.breaker.execute(dead)).rejects.toThrow('directory down'); // third failure: the opening is throttled
    expect((await t.breaker.getState()).state).toBe('CLOSED');
    await expect(t.breaker.execute(dead)).rejects.toMatchObject({ state: 'STORE_THROTTLED' });
    t.store.fault = undefined;
    t.clock.advance(50);
    await expect(t.breaker.execute(dead)).rejects.toMatchObject({ state: 'OPEN' });
    expect((await t.breaker.getState()).state).toBe('OPEN');
    expect(downstreamCalls).toBe(3);
  });
});

describe("local mode (onStoreError 'local')", () => {
  test('entering, counting, opening, one trial, leaving when the store answers', async () => {
    const t = setup({ onStoreError: 'local' });
    await t.breaker.execute(ok);
    t.clock.advance(5_000); // the closed cache expires: the next call reads
    t.store.fault = 'error';
    // Entering: the read fails, this call is decided (and counted) locally.
    await expect(t.breaker.execute(dead)).rejects.toThrow('directory down');
    expect(t.of('localMode')).toMatchObject([{ active: true }]);
    expect(t.breaker.currentMode).toBe('local');
    const storeRequests = t.store.total();
    // Counting: two more failures reach the threshold and open the local circuit, without asking the store.
    await expect(t.breaker.execute(dead)).rejects.toThrow('directory down');
    await expect(t.breaker.execute(dead)).rejects.toThrow('directory down');
    expect(t.of('localStateChange')).toMatchObject([{ from: 'CLOSED', to: 'OPEN', reason: 'failureThreshold' }]);
    await expect(t.breaker.execute(dead)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(downstreamCalls).toBe(3);
    expect(t.store.total()).toBe(storeRequests);
    // Its own open period with backoff: after 1 s one trial, which fails and reopens for 2 s.
    t.clock.advance(999);
    t.store.fault = 'error';
    // (the store pause ended: the call asks the store, which still fails, and the local circuit decides)
    await expect(t.breaker.execute(dead)).rejects.toBeInstanceOf(CircuitOpenError);
    t.clock.advance(1);
    await expect(t.breaker.execute(dead)).rejects.toThrow('directory down');
    expect(downstreamCalls).toBe(4);
    expect(t.of('localStateChange').map((e) => `${e.from}->${e.to}`)).toEqual(['CLOSED->OPEN', 'OPEN->HALF_OPEN', 'HALF_OPEN->OPEN']);
    // Leaving: the store answers again (shared CLOSED). Locally open for 2 s: still rejecting until that ends.
    t.store.fault = undefined;
    t.clock.advance(1_000);
    await expect(t.breaker.execute(ok)).rejects.toMatchObject({ state: 'OPEN' });
    expect(t.of('localMode').map((e) => e.active)).toEqual([true, false]);
    expect(t.breaker.currentMode).toBe('shared');
    t.clock.advance(1_000);
    await expect(t.breaker.execute(ok)).resolves.toBe('ok');
    // The shared item never saw the local counts.
    expect((await t.breaker.getState()).failures).toBe(0);
  });

  test('a count the store could not take (store died mid-call) is counted locally', async () => {
    const t = setup({ onStoreError: 'local' });
    await t.breaker.execute(ok);
    t.store.fault = 'error';
    t.store.faultFor.add('recordCount');
    await expect(t.breaker.execute(dead)).rejects.toThrow('directory down'); // admitted on the cached CLOSED
    await expect(t.breaker.execute(dead)).rejects.toThrow('directory down'); // local
    await expect(t.breaker.execute(dead)).rejects.toThrow('directory down'); // local: third failure opens
    await expect(t.breaker.execute(dead)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(downstreamCalls).toBe(3);
  });

  test('with the rate policy the local circuit opens at minimumCalls, with no flush lag (memory counts at once)', async () => {
    const t = setup({ onStoreError: 'local', failureThreshold: undefined, failureRateThreshold: 0.5, minimumCalls: 4, countFlushMs: 1_000, windowMs: 60_000 });
    t.store.fault = 'error';
    for (let i = 0; i < 8; i++) await t.breaker.execute(dead).catch(() => undefined);
    expect(downstreamCalls).toBe(4);
    expect(t.of('localStateChange')).toMatchObject([{ from: 'CLOSED', to: 'OPEN', reason: 'failureRate' }]);
  });

  test("an operator's DISABLED is obeyed at once, even by a locally open instance", async () => {
    const shared = { memory: new MemoryStateStore(), clock: new ManualClock() };
    const t = setup({ onStoreError: 'local', stateCacheMs: 200, closedStateCacheMs: 1_000 }, shared);
    const operator = setup({}, shared);
    t.store.fault = 'error';
    for (let i = 0; i < 3; i++) await expect(t.breaker.execute(dead)).rejects.toThrow('directory down');
    await expect(t.breaker.execute(dead)).rejects.toBeInstanceOf(CircuitOpenError);
    t.store.fault = undefined;
    await operator.breaker.disable();
    shared.clock.advance(500); // the store pause ends; the local open period (1 s) has not
    await expect(t.breaker.execute(ok)).resolves.toBe('ok');
  });

  test("'allow' lets through only the call whose store request failed: each call asks the store", async () => {
    const t = setup({ onStoreError: 'allow' });
    t.store.fault = 'error';
    t.store.faultFor.add('read');
    for (let i = 0; i < 4; i++) await expect(t.breaker.execute(ok)).resolves.toBe('ok');
    expect(t.store.calls.read).toBe(4 * 2); // storeMaxAttempts 2 per call, no call skipped the store
    expect(t.of('storeError').every((e) => !e.skipped && e.mode === 'shared')).toBe(true);
    expect(t.of('localMode')).toEqual([]);
  });
});
