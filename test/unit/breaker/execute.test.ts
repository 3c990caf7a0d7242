/** execute(fn, { signal, onSettled }): caller cancellation and what the caller is told about its call. */
import { CallCancelledError, CircuitBreaker, CircuitOpenError, MemoryStateStore, type BreakerEvent, type CallDetails, type CircuitBreakerOptions } from '../../../src/breaker';
import { ManualClock } from '../../support/breaker/clock';
import { InstrumentedStore } from '../../support/breaker/storeDoubles';

const NAME = 'downstream';
const boom = () => Promise.reject(new Error('downstream failed'));
const ok = () => Promise.resolve('ok');
const flush = () => new Promise((resolve) => setImmediate(resolve));

function setup(options: Partial<CircuitBreakerOptions> = {}, shared?: { memory: MemoryStateStore; clock: ManualClock }) {
  const memory = shared?.memory ?? new MemoryStateStore();
  const clock = shared?.clock ?? new ManualClock();
  const store = new InstrumentedStore(memory);
  const breaker = new CircuitBreaker({ name: NAME, store, failureThreshold: 1, openMs: 1_000, halfOpenMaxCalls: 1, halfOpenSuccessThreshold: 1, timeoutMs: 5_000, random: () => 0, now: clock.now, ...options });
  const events: BreakerEvent[] = [];
  breaker.onEvent((event) => events.push(event));
  return { memory, clock, store, breaker, events };
}

/** A call that never settles by itself, recording the signal it was given. */
function hanging() {
  const seen: { signal?: AbortSignal } = {};
  const fn = (signal: AbortSignal) => {
    seen.signal = signal;
    return new Promise<string>(() => undefined);
  };
  return { fn, seen };
}

describe('caller cancellation', () => {
  test('an abort during a closed call rejects at once with the reason, aborts fn\'s signal, and counts neither way', async () => {
    const t = setup();
    const controller = new AbortController();
    const { fn, seen } = hanging();
    const running = t.breaker.execute(fn, { signal: controller.signal });
    await flush();
    const reason = new Error('request deadline');
    controller.abort(reason);
    await expect(running).rejects.toBe(reason);
    expect(seen.signal?.aborted).toBe(true);
    expect(seen.signal?.reason).toBe(reason);
    expect(await t.breaker.getState()).toMatchObject({ state: 'CLOSED', failures: 0 });
    expect(t.store.calls.recordCount).toBe(0);
  });

  test('an abort whose reason is not an Error rejects with CallCancelledError', async () => {
    const t = setup();
    const controller = new AbortController();
    const running = t.breaker.execute(hanging().fn, { signal: controller.signal });
    await flush();
    controller.abort('gone');
    await expect(running).rejects.toMatchObject({ name: 'CallCancelledError', circuit: NAME, reason: 'gone' });
    await expect(running).rejects.toBeInstanceOf(CallCancelledError);
  });

  test('an already aborted signal: fn is not called, nothing is read or written', async () => {
    const t = setup();
    const fn = jest.fn(ok);
    await expect(t.breaker.execute(fn, { signal: AbortSignal.abort(new Error('too late')) })).rejects.toThrow('too late');
    expect(fn).not.toHaveBeenCalled();
    expect(t.store.total()).toBe(0);
  });

  test('a cancelled trial gives its permit back: the next caller gets the trial, the circuit is not reopened', async () => {
    const shared = { memory: new MemoryStateStore(), clock: new ManualClock() };
    const a = setup({ stateCacheMs: 0 }, shared);
    const b = setup({ stateCacheMs: 0 }, shared);
    await a.breaker.execute(boom).catch(() => undefined);
    shared.clock.advance(1_000);
    const controller = new AbortController();
    const trial = a.breaker.execute(hanging().fn, { signal: controller.signal });
    await flush();
    await expect(b.breaker.execute(ok)).rejects.toBeInstanceOf(CircuitOpenError); // the only permit is held
    controller.abort(new Error('deadline'));
    await expect(trial).rejects.toThrow('deadline');
    await flush();
    expect(a.store.calls.releasePermit).toBe(1);
    await expect(b.breaker.execute(ok)).resolves.toBe('ok');
    expect((await b.breaker.getState()).state).toBe('CLOSED');
  });

  test('a signal that is not an AbortSignal is a TypeError', async () => {
    const t = setup();
    await expect(t.breaker.execute(ok, { signal: {} as AbortSignal })).rejects.toThrow(TypeError);
  });
});

describe('onSettled tells the caller the outcome and the state its call ran in', () => {
  async function details(t: ReturnType<typeof setup>, fn: (signal: AbortSignal) => Promise<unknown>): Promise<CallDetails | undefined> {
    let seen: CallDetails | undefined;
    await t.breaker.execute(fn, { onSettled: (d) => (seen = d) }).catch(() => undefined);
    return seen;
  }

  test('success, failure that opened the circuit (with openUntil), rejection, trial', async () => {
    const t = setup({ failureThreshold: 2 });
    expect(await details(t, ok)).toEqual({ circuit: NAME, outcome: 'success', state: 'CLOSED', durationMs: 0 });
    expect(await details(t, boom)).toEqual({ circuit: NAME, outcome: 'failure', state: 'CLOSED', durationMs: 0 });
    expect(await details(t, boom)).toEqual({ circuit: NAME, outcome: 'failure', state: 'CLOSED', durationMs: 0, openUntil: t.clock.time + 1_000 });
    expect(await details(t, ok)).toEqual({ circuit: NAME, outcome: 'rejected', state: 'OPEN', durationMs: 0 });
    t.clock.advance(1_000);
    expect(await details(t, ok)).toMatchObject({ outcome: 'success', state: 'HALF_OPEN' });
  });

  test('ignored, slow, and a throwing onSettled that changes nothing', async () => {
    const t = setup({ isFailure: () => false, slowCallMs: 10, timeoutMs: 20, failureThreshold: 5 });
    expect(await details(t, boom)).toMatchObject({ outcome: 'ignored' });
    const slow = () => {
      t.clock.advance(11);
      return Promise.resolve('late');
    };
    expect(await details(t, slow)).toMatchObject({ outcome: 'slow', durationMs: 11 });
    await expect(t.breaker.execute(ok, { onSettled: () => { throw new Error('observer bug'); } })).resolves.toBe('ok');
  });

  test('a call cancelled before admission reports cancelled with no state', async () => {
    const t = setup();
    let seen: CallDetails | undefined;
    await t.breaker.execute(ok, { signal: AbortSignal.abort(), onSettled: (d) => (seen = d) }).catch(() => undefined);
    expect(seen).toEqual({ circuit: NAME, outcome: 'cancelled', durationMs: 0 });
  });
});
