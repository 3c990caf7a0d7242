/**
 * Issue 10's examples, each a test that failed on the earlier code: untrusted items, late results, bad settings,
 * events, clocks. Memory store and injected clocks; DynamoDB's own limits are tested on DynamoDB Local.
 */
import { BreakerConfigError, CircuitBreaker, CircuitOpenError, MemoryStateStore, type BreakerEvent, type CircuitBreakerOptions } from '../../../src/breaker';
import { ManualClock } from '../../support/breaker/clock';
import { deferred } from '../../support/breaker/deferred';
import { InstrumentedStore } from '../../support/breaker/storeDoubles';

const NAME = 'downstream';
const boom = () => Promise.reject(new Error('downstream failed'));
const ok = () => Promise.resolve('ok');

function instance(memory: MemoryStateStore, clock: { now: () => number }, options: Partial<CircuitBreakerOptions> = {}) {
  const events: BreakerEvent[] = [];
  const breaker = new CircuitBreaker({ name: NAME, store: memory, random: () => 0, now: clock.now, ...options });
  breaker.onEvent((event) => events.push(event));
  return { breaker, events };
}

describe('the shared item is untrusted input', () => {
  test('a numeric but invalid version (1.5) is treated as closed, repaired, and the circuit opens at the threshold', async () => {
    const memory = new MemoryStateStore();
    memory.putRawItem(NAME, { state: 'CLOSED', version: 1.5 });
    const { breaker, events } = instance(memory, new ManualClock(), { failureThreshold: 5 });
    let downstreamCalls = 0;
    const failing = () => {
      downstreamCalls++;
      return boom();
    };
    for (let i = 0; i < 10; i++) await breaker.execute(failing).catch(() => undefined);
    expect(downstreamCalls).toBe(5);
    expect(events.filter((e) => e.type === 'itemRepaired')).toHaveLength(1);
    expect(await breaker.getState()).toMatchObject({ state: 'OPEN', problems: [] });
  });

  test.each<[string, Record<string, unknown>]>([
    ['version 1.5', { state: 'CLOSED', version: 1.5 }],
    ['version -3', { state: 'OPEN', version: -3, openUntil: 5 }],
    ['version 1e300', { state: 'HALF_OPEN', version: 1e300 }],
    ['version "7"', { state: 'CLOSED', version: '7' }],
    ['no version', { state: 'FORCED_OPEN' }],
    ['openUntil far ahead', { state: 'OPEN', version: 3, openUntil: 8.64e15 }],
  ])('reset succeeds on any item: %s', async (_label, item) => {
    const memory = new MemoryStateStore();
    memory.putRawItem(NAME, item);
    const { breaker } = instance(memory, new ManualClock());
    await expect(breaker.reset()).resolves.toMatchObject({ state: 'CLOSED', problems: [] });
    expect(memory.rawItem(NAME)).toMatchObject({ state: 'CLOSED' });
  });

  test('an open period far beyond maxOpenMs does not hold: calls pass, no retry-after past maxOpenMs, the next failure repairs it', async () => {
    const memory = new MemoryStateStore();
    memory.putRawItem(NAME, { state: 'OPEN', version: 3, openUntil: 8.64e15 });
    const { breaker, events } = instance(memory, new ManualClock(), { failureThreshold: 5 });
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    await expect(breaker.execute(boom)).rejects.toThrow('downstream failed');
    expect(events).toContainEqual(expect.objectContaining({ type: 'itemRepaired', problems: [expect.stringContaining('more than maxOpenMs')] }));
    expect(await breaker.getState()).toMatchObject({ state: 'CLOSED', failures: 1, problems: [] });
  });

  test('a trial lease far in the future does not wedge half-open: treated as closed', async () => {
    const memory = new MemoryStateStore();
    const clock = new ManualClock();
    memory.putRawItem(NAME, { state: 'HALF_OPEN', version: 3, p_0: { exp: clock.time + 1e12, tok: 'x' }, p_1: { exp: clock.time + 1e12, tok: 'y' } });
    const { breaker } = instance(memory, clock);
    await expect(breaker.execute(ok)).resolves.toBe('ok');
  });
});

describe('late results count only in the period they were admitted in', () => {
  test('a failure admitted while closed does not reopen the circuit after it opened and closed again', async () => {
    const memory = new MemoryStateStore();
    const clock = new ManualClock();
    const options = { failureThreshold: 1, openMs: 200, maxOpenMs: 200, timeoutMs: 1_000, slowCallMs: 1_000, halfOpenSuccessThreshold: 1, stateCacheMs: 0 };
    const a = instance(memory, clock, options);
    const b = instance(memory, clock, options);
    const x = deferred<string>();
    const lateCall = a.breaker.execute(() => x.promise); // X: admitted while CLOSED
    await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    await expect(b.breaker.execute(boom)).rejects.toThrow(); // Y opens
    clock.advance(270);
    await expect(b.breaker.execute(ok)).resolves.toBe('ok'); // the trial closes
    expect((await b.breaker.getState()).state).toBe('CLOSED');
    clock.advance(330);
    x.reject(new Error('late failure'));
    await expect(lateCall).rejects.toThrow('late failure');
    expect(await b.breaker.getState()).toMatchObject({ state: 'CLOSED', failures: 0 });
    expect(a.events).toContainEqual(expect.objectContaining({ type: 'outcomeDiscarded', outcome: 'failure', reason: 'periodEnded' }));
  });
});

describe('settings that validated but broke the breaker', () => {
  test.each<[string, () => number]>([
    ['NaN', () => Number.NaN],
    ['-1', () => -1],
    ['7', () => 7],
    ['a string', () => 'x' as unknown as number],
    ['a throw', () => {
      throw new Error('no entropy');
    }],
  ])('random returning %s: one failure with threshold 1 still opens, for an open period within the backoff bounds', async (_label, random) => {
    const memory = new MemoryStateStore();
    const clock = new ManualClock();
    const { breaker } = instance(memory, clock, { failureThreshold: 1, openMs: 1_000, jitterRatio: 0.5, random });
    await expect(breaker.execute(boom)).rejects.toThrow();
    const state = await breaker.getState();
    expect(state.state).toBe('OPEN');
    expect(state.retryAfterMs).toBeGreaterThanOrEqual(500);
    expect(state.retryAfterMs).toBeLessThanOrEqual(1_000);
  });

  test('a name over 1,024 bytes in UTF-8 is a BreakerConfigError naming name (683 x € is 2,049 bytes)', () => {
    const build = () => new CircuitBreaker({ name: '€'.repeat(683), store: new MemoryStateStore() });
    expect(build).toThrow(BreakerConfigError);
    expect(build).toThrow(/'name'.*bytes/);
    expect(() => new CircuitBreaker({ name: '€'.repeat(341), store: new MemoryStateStore() })).not.toThrow();
  });

  test.each<[string, Partial<CircuitBreakerOptions>]>([
    ['timeoutMs below the slowCallMs default', { timeoutMs: 1_000 }],
    ['maxOpenMs below the openMs default', { maxOpenMs: 5_000 }],
    ['openMs above the maxOpenMs default', { openMs: 600_000 }],
  ])('a default never conflicts with a value the user set: %s', (_label, options) => {
    expect(() => new CircuitBreaker({ name: 'c', store: new MemoryStateStore(), ...options })).not.toThrow();
  });

  test('a clock returning NaN rejects the call with an error naming now, and writes nothing to the shared item', async () => {
    const memory = new MemoryStateStore();
    const breaker = new CircuitBreaker({ name: NAME, store: memory, now: () => Number.NaN });
    await expect(breaker.execute(ok)).rejects.toMatchObject({ name: 'BreakerConfigError', option: 'now' });
    expect(memory.rawItem(NAME)).toBeUndefined();
  });

  test('windowBuckets is bounded (each bucket is an attribute every clearing write removes)', () => {
    expect(() => new CircuitBreaker({ name: 'c', store: new MemoryStateStore(), windowBuckets: 1_000, windowMs: 60_000, failureThreshold: 700 })).toThrow(/'windowBuckets'/);
  });
});

describe('events', () => {
  test('a listener that re-subscribes itself during delivery does not hang the call', async () => {
    const { breaker } = instance(new MemoryStateStore(), new ManualClock());
    const arm = () => {
      const off = breaker.onEvent(() => {
        off();
        arm();
      });
    };
    arm();
    await expect(breaker.execute(async () => 1)).resolves.toBe(1);
  });

  test('a listener added during delivery gets the next event, not this one', async () => {
    const { breaker } = instance(new MemoryStateStore(), new ManualClock());
    const late: string[] = [];
    let added = false;
    breaker.onEvent(() => {
      if (added) return;
      added = true;
      breaker.onEvent((event) => late.push(event.type));
    });
    await breaker.execute(boom).catch(() => undefined);
    await breaker.execute(boom).catch(() => undefined);
    expect(late).toEqual(['callCompleted']); // the second call's; not the first call's
  });

  test("'allow': every failure the store did not record is a storeError event; no call skips the store", async () => {
    const store = new InstrumentedStore(new MemoryStateStore());
    const clock = new ManualClock();
    const events: BreakerEvent[] = [];
    const breaker = new CircuitBreaker({ name: NAME, store, now: clock.now, failureThreshold: 100, onStoreError: 'allow' });
    breaker.onEvent((event) => events.push(event));
    await breaker.execute(ok);
    store.fault = 'error';
    store.faultFor.add('recordCount');
    for (let i = 0; i < 5; i++) await breaker.execute(boom).catch(() => undefined);
    const storeErrors = events.filter((e) => e.type === 'storeError');
    expect(storeErrors).toHaveLength(5);
    // Old code: one write, then four calls skipped the store for stateCacheMs.
    expect(store.calls.recordCount).toBe(5);
    expect(storeErrors.filter((e) => e.type === 'storeError' && e.skipped)).toHaveLength(0);
  });

  test("'local': an outcome the store could not take is counted by the local circuit, and calls meanwhile are decided locally", async () => {
    const store = new InstrumentedStore(new MemoryStateStore());
    const clock = new ManualClock();
    const events: BreakerEvent[] = [];
    const breaker = new CircuitBreaker({ name: NAME, store, now: clock.now, failureThreshold: 3, onStoreError: 'local', random: () => 0 });
    breaker.onEvent((event) => events.push(event));
    await breaker.execute(ok);
    store.fault = 'error';
    store.faultFor.add('recordCount');
    let reached = 0;
    const dead = async () => {
      reached++;
      throw new Error('downstream down');
    };
    for (let i = 0; i < 6; i++) await breaker.execute(dead).catch(() => undefined);
    expect(store.calls.recordCount).toBe(1); // the store failed once; every later call was decided locally
    expect(reached).toBe(3); // the local circuit opened at the threshold
    expect(events.filter((e) => e.type === 'localMode')).toMatchObject([{ active: true }]);
    expect(events.filter((e) => e.type === 'localStateChange')).toMatchObject([{ from: 'CLOSED', to: 'OPEN', reason: 'failureThreshold' }]);
    expect(events.filter((e) => e.type === 'storeError')).toMatchObject([{ mode: 'local', kind: 'unreachable', policy: 'local' }]);
  });
});

describe('clocks', () => {
  test('an instance windowMs ahead does not delete the fleet\'s live failure counts as stale', async () => {
    const memory = new MemoryStateStore();
    const clock = new ManualClock();
    const options = { failureThreshold: 3, windowMs: 10_000, stateCacheMs: 0 };
    const fleet = instance(memory, clock, options);
    const ahead = instance(memory, { now: () => clock.time + 10_000 }, options);
    await fleet.breaker.execute(boom).catch(() => undefined);
    await fleet.breaker.execute(boom).catch(() => undefined);
    await ahead.breaker.execute(boom).catch(() => undefined); // its own bucket is 10 s later; the fleet's stay
    expect(Object.keys(memory.rawItem(NAME) ?? {}).filter((k) => k.startsWith('f_'))).toHaveLength(2);
    await fleet.breaker.execute(boom).catch(() => undefined);
    expect((await fleet.breaker.getState()).state).toBe('OPEN');
  });

  test('a cached OPEN is dropped when the instance\'s clock steps back: it does not keep rejecting after the fleet closed', async () => {
    const memory = new MemoryStateStore();
    const clock = new ManualClock();
    const options = { failureThreshold: 1, openMs: 1_000, halfOpenSuccessThreshold: 1, stateCacheMs: 1_000 };
    const stepping = { time: clock.time };
    const victim = instance(memory, { now: () => stepping.time }, options);
    const fleet = instance(memory, clock, options);
    await victim.breaker.execute(boom).catch(() => undefined); // opens; the victim caches OPEN
    clock.advance(2_000);
    await fleet.breaker.execute(ok); // probe, trial success: closed
    expect((await fleet.breaker.getState()).state).toBe('CLOSED');
    stepping.time -= 60 * 60 * 1000; // the victim's clock steps back an hour
    await expect(victim.breaker.execute(ok)).resolves.toBe('ok');
  });

  test('an instance clock within permitLeaseMarginMs ahead of the writer trusts its lease (no second trial)', async () => {
    const memory = new MemoryStateStore();
    const clock = new ManualClock();
    const options = { failureThreshold: 1, openMs: 1_000, halfOpenMaxCalls: 1, timeoutMs: 1_000, slowCallMs: 1_000, permitLeaseMarginMs: 3_000 };
    const writer = instance(memory, clock, options);
    const behind = instance(memory, { now: () => clock.time - 2_000 }, options);
    await writer.breaker.execute(boom).catch(() => undefined);
    clock.advance(1_000);
    const trial = deferred<string>();
    const running = writer.breaker.execute(() => trial.promise);
    await new Promise((resolve) => setImmediate(resolve));
    await expect(behind.breaker.execute(ok)).rejects.toBeInstanceOf(CircuitOpenError);
    trial.resolve('ok');
    await running;
  });
});
