import { CircuitBreaker, MemoryStateStore } from '../../../src/breaker';
import { ManualClock } from '../../support/breaker/clock';
import { deferred } from '../../support/breaker/deferred';

// The store operations' guards and races are in the store contract (test/contract/stateStoreContract.ts).
describe('MemoryStateStore is exact under concurrent async callers', () => {
  test('50 breaker instances racing for half-open permits never run more than halfOpenMaxCalls trials', async () => {
    const store = new MemoryStateStore();
    const clock = new ManualClock();
    const make = () => new CircuitBreaker({ name: 'c', store, now: clock.now, failureThreshold: 1, openMs: 1_000, halfOpenMaxCalls: 3, halfOpenSuccessThreshold: 50 });
    const instances = Array.from({ length: 50 }, make);
    await instances[0].execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    clock.advance(1_000);
    const gate = deferred<string>();
    let running = 0;
    let maxRunning = 0;
    const calls = instances.map((breaker) =>
      breaker
        .execute(async () => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          const result = await gate.promise;
          running--;
          return result;
        })
        .catch((e: Error) => e.name),
    );
    await new Promise(setImmediate);
    gate.resolve('ok');
    const outcomes = await Promise.all(calls);
    expect(maxRunning).toBe(3);
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 'CircuitOpenError')).toHaveLength(47);
  });
});
