import {
  CallTimeoutError,
  CircuitBreaker,
  CircuitOpenError,
  MemoryStateStore,
  withCircuitBreaker,
  type CallContext,
  type CircuitDetails,
} from '../../../src/breaker';
import { ManualClock } from '../../support/breaker/clock';
import { deferred } from '../../support/breaker/deferred';

function setup() {
  const clock = new ManualClock();
  const store = new MemoryStateStore();
  const breaker = new CircuitBreaker({
    name: 'prices',
    store,
    failureThreshold: 2,
    openMs: 1_000,
    maxOpenMs: 5_000,
    timeoutMs: 500,
    slowCallMs: 200,
    halfOpenMaxCalls: 1,
    halfOpenSuccessThreshold: 1,
    random: () => 0,
    now: clock.now,
  });
  return { clock, store, breaker };
}

async function open(breaker: CircuitBreaker): Promise<void> {
  for (let i = 0; i < 2; i++) await expect(breaker.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
  expect((await breaker.getState()).state).toBe('OPEN');
}

describe('withCircuitBreaker', () => {
  test('passes the caller arguments and this to fn and returns its result; fallback not called', async () => {
    const { breaker } = setup();
    const fallback = jest.fn((_sku: string, _qty: number, _details: CircuitDetails) => -1);
    const seen: unknown[] = [];
    const price = withCircuitBreaker(
      async function (this: unknown, sku: string, qty: number) {
        seen.push(this, sku, qty);
        return qty * 10;
      },
      { breaker, fallback },
    );
    const self = { price };
    await expect(self.price('A-1', 3)).resolves.toBe(30);
    expect(seen).toEqual([self, 'A-1', 3]);
    expect(fallback).not.toHaveBeenCalled();
  });

  test('fn without passContext gets exactly the caller arguments (no context in an optional or rest parameter)', async () => {
    const { breaker } = setup();
    const received: unknown[][] = [];
    const join = withCircuitBreaker(
      async (...parts: string[]) => {
        received.push(parts);
        return parts.join('/');
      },
      { breaker },
    );
    await expect(join('a', 'b')).resolves.toBe('a/b');
    expect(received).toEqual([['a', 'b']]);
  });

  test('an open circuit: fn is not called, the fallback gets the same arguments plus circuit, state and retryAfterMs', async () => {
    const { breaker, clock } = setup();
    await open(breaker);
    clock.advance(400);
    const fn = jest.fn(async (_sku: string, qty: number) => qty * 10);
    const fallback = jest.fn(async (_sku: string, qty: number, details: CircuitDetails) => (details.state === 'OPEN' ? -qty : 0));
    const price = withCircuitBreaker(fn, { breaker, fallback });
    await expect(price('A-1', 3)).resolves.toBe(-3);
    expect(fn).not.toHaveBeenCalled();
    expect(fallback).toHaveBeenCalledWith('A-1', 3, { circuit: 'prices', state: 'OPEN', retryAfterMs: 600 });
  });

  test('half-open with every trial permit taken goes to the fallback with state HALF_OPEN', async () => {
    const { breaker, clock } = setup();
    await open(breaker);
    clock.advance(1_000);
    const trial = deferred<number>();
    const fallback = jest.fn((_sku: string, details: CircuitDetails) => details.state);
    const lookup = withCircuitBreaker((sku: string) => (sku === 'trial' ? trial.promise.then(String) : Promise.resolve(sku)), { breaker, fallback });
    const running = lookup('trial'); // takes the only permit
    await new Promise((resolve) => setImmediate(resolve));
    await expect(lookup('other')).resolves.toBe('HALF_OPEN');
    trial.resolve(1);
    await expect(running).resolves.toBe('1');
    expect(fallback).toHaveBeenCalledTimes(1);
  });

  test('a forced-open circuit goes to the fallback with state FORCED_OPEN', async () => {
    const { breaker } = setup();
    await breaker.forceOpen();
    const fallback = jest.fn((_id: string, details: CircuitDetails) => `${details.circuit}:${details.state}`);
    await expect(withCircuitBreaker(async (id: string) => id, { breaker, fallback })('x')).resolves.toBe('prices:FORCED_OPEN');
  });

  test('a store that cannot answer under onStoreError deny goes to the fallback with state STORE_UNAVAILABLE', async () => {
    const failing = new MemoryStateStore();
    failing.read = () => Promise.reject(new Error('store down'));
    const breaker = new CircuitBreaker({ name: 'prices', store: failing, onStoreError: 'deny', storeMaxAttempts: 1 });
    const fallback = jest.fn((_id: string, details: CircuitDetails) => details.state);
    await expect(withCircuitBreaker(async (id: string) => id, { breaker, fallback })('x')).resolves.toBe('STORE_UNAVAILABLE');
  });

  test("fn's own errors propagate and the fallback is not called, also a CircuitOpenError from another breaker inside fn", async () => {
    const { breaker } = setup();
    const fallback = jest.fn(() => 'fallback');
    const failing = withCircuitBreaker(async (_id: string): Promise<string> => {
      throw new Error('downstream 500');
    }, { breaker, fallback });
    await expect(failing('x')).rejects.toThrow('downstream 500');
    const inner = new CircuitOpenError('inner', 100, 'OPEN');
    const nested = withCircuitBreaker(async (_id: string): Promise<string> => {
      throw inner;
    }, { breaker, fallback });
    await expect(nested('x')).rejects.toBe(inner);
    expect(fallback).not.toHaveBeenCalled();
  });

  test('without a fallback a refused call rejects with CircuitOpenError; a throwing fallback rejects with its error', async () => {
    const { breaker } = setup();
    await open(breaker);
    await expect(withCircuitBreaker(async (id: string) => id, { breaker })('x')).rejects.toBeInstanceOf(CircuitOpenError);
    const broken = withCircuitBreaker(async (id: string) => id, {
      breaker,
      fallback: () => {
        throw new Error('no cached copy');
      },
    });
    await expect(broken('x')).rejects.toThrow('no cached copy');
  });

  test('passContext: fn gets { signal } after the arguments; the timeout aborts it and rejects with CallTimeoutError', async () => {
    const { breaker } = setup();
    const signals: AbortSignal[] = [];
    const slow = withCircuitBreaker(
      (_id: string, { signal }: CallContext) => {
        signals.push(signal);
        return new Promise<string>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
      { breaker, passContext: true, fallback: (id) => `cached ${id}` },
    );
    jest.useFakeTimers();
    try {
      const result = slow('x');
      const settled = expect(result).rejects.toBeInstanceOf(CallTimeoutError);
      await jest.advanceTimersByTimeAsync(500);
      await settled;
    } finally {
      jest.useRealTimers();
    }
    expect(signals).toHaveLength(1);
    expect(signals[0].aborted).toBe(true);
  });

  test("signal: the caller's signal, computed from the call's arguments, goes to execute(fn, { signal })", async () => {
    const seen: ({ signal?: AbortSignal } | undefined)[] = [];
    const stub = {
      name: 'stub',
      execute: <T>(fn: (signal: AbortSignal) => Promise<T>, options?: { signal?: AbortSignal }) => {
        seen.push(options);
        return fn(new AbortController().signal);
      },
    };
    const deadline = new AbortController();
    const lookup = withCircuitBreaker(async (id: string, budgetMs: number) => `${id}:${budgetMs}`, {
      breaker: stub,
      signal: (_id, budgetMs) => (budgetMs > 0 ? deadline.signal : undefined),
    });
    await expect(lookup('a', 100)).resolves.toBe('a:100');
    await expect(lookup('b', 0)).resolves.toBe('b:0');
    expect(seen).toHaveLength(2);
    expect(seen[0]?.signal).toBe(deadline.signal);
    expect(seen[1]).toBeUndefined();
  });

  test('bad arguments fail at wrap time with a TypeError naming them', () => {
    const { breaker } = setup();
    expect(() => withCircuitBreaker(undefined as unknown as () => Promise<void>, { breaker })).toThrow(/fn must be a function/);
    expect(() => withCircuitBreaker(async () => 1, { breaker: {} as CircuitBreaker })).toThrow(/options.breaker/);
    expect(() => withCircuitBreaker(async () => 1, { breaker, fallback: 1 as unknown as () => number })).toThrow(/options.fallback/);
    expect(() => withCircuitBreaker(async () => 1, { breaker, signal: new AbortController().signal as unknown as () => AbortSignal })).toThrow(/options.signal/);
  });

  test('types: the wrapped function has fn parameters; a wrong fallback does not compile (checked by tsc)', async () => {
    const { breaker } = setup();
    const withContext = withCircuitBreaker(async (id: string, { signal }: CallContext) => ({ id, aborted: signal.aborted }), {
      breaker,
      passContext: true,
      fallback: (id, details) => ({ id, aborted: details.retryAfterMs === null }),
    });
    const typed: (id: string) => Promise<{ id: string; aborted: boolean }> = withContext;
    const plain = withCircuitBreaker(async (id: string, qty?: number) => id.length + (qty ?? 0), { breaker, fallback: (_id, _qty, d) => d.state.length });
    const plainTyped: (id: string, qty?: number) => Promise<number> = plain;

    // @ts-expect-error the fallback's first parameter must be fn's (string)
    withCircuitBreaker(async (id: string) => id, { breaker, fallback: (id: number) => String(id) });
    // @ts-expect-error the fallback must return what fn resolves to (string)
    withCircuitBreaker(async (id: string) => id, { breaker, fallback: (id: string) => id.length });
    // @ts-expect-error the fallback may not widen the result: fn resolves to a number, undefined is not one
    withCircuitBreaker(async (id: string) => id.length, { breaker, fallback: () => undefined });
    // @ts-expect-error the same with passContext
    withCircuitBreaker(async (id: string, _context: CallContext) => id.length, { breaker, passContext: true, fallback: () => undefined });
    // @ts-expect-error the fallback's details come after the caller's arguments
    withCircuitBreaker(async (id: string) => id, { breaker, fallback: (details: CircuitDetails, id: string) => id + details.state });
    // @ts-expect-error passContext needs fn to declare CallContext as its last parameter
    withCircuitBreaker(async (id: string) => id, { breaker, passContext: true });
    // @ts-expect-error the wrapped function takes fn's parameters, not the context
    void withContext('x', { signal: new AbortController().signal });

    await expect(typed('a')).resolves.toEqual({ id: 'a', aborted: false });
    await expect(plainTyped('ab', 1)).resolves.toBe(3);
  });
});
