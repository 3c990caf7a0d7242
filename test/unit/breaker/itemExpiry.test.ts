/**
 * The state item's TTL attribute (`expiresAt`, epoch seconds): every write that leaves the item in a state the
 * breaker itself manages pushes it itemTtlMs ahead; operator states never expire; a deleted item is a closed circuit.
 */
import { CircuitBreaker, MemoryStateStore, type BreakerEvent, type CircuitBreakerOptions } from '../../../src/breaker';
import { ManualClock } from '../../support/breaker/clock';

const NAME = 'downstream';
const HOUR = 60 * 60 * 1000;
const boom = () => Promise.reject(new Error('downstream failed'));
const ok = () => Promise.resolve('ok');

function fleet(overrides: Partial<CircuitBreakerOptions> = {}) {
  const memory = new MemoryStateStore();
  const clock = new ManualClock();
  const instance = (extra: Partial<CircuitBreakerOptions> = {}) =>
    new CircuitBreaker({
      name: NAME,
      store: memory,
      failureThreshold: 2,
      windowMs: 10_000,
      openMs: 1_000,
      maxOpenMs: 5_000,
      halfOpenMaxCalls: 1,
      halfOpenSuccessThreshold: 1,
      timeoutMs: 500,
      slowCallMs: 400,
      itemTtlMs: HOUR,
      random: () => 0,
      now: clock.now,
      ...overrides,
      ...extra,
    });
  const expiresAt = () => memory.rawItem(NAME)?.expiresAt;
  const expected = () => Math.ceil((clock.time + HOUR) / 1000);
  return { memory, clock, instance, expiresAt, expected };
}

test('counts and every transition the breaker makes push the expiry itemTtlMs ahead, in epoch seconds', async () => {
  const t = fleet();
  const breaker = t.instance();
  await expect(breaker.execute(boom)).rejects.toThrow();
  expect(t.expiresAt()).toBe(t.expected());

  t.clock.advance(100);
  await expect(breaker.execute(boom)).rejects.toThrow(); // opens
  expect(t.memory.rawItem(NAME)?.state).toBe('OPEN');
  expect(t.expiresAt()).toBe(t.expected());

  t.clock.advance(1_000);
  await breaker.execute(ok); // half-open trial, then closes
  expect(t.memory.rawItem(NAME)?.state).toBe('CLOSED');
  expect(t.expiresAt()).toBe(t.expected());
});

test('forceOpen and disable remove the expiry (an operator state lasts until reset); reset sets it again', async () => {
  const t = fleet();
  const breaker = t.instance();
  await expect(breaker.execute(boom)).rejects.toThrow();
  await breaker.forceOpen();
  expect(t.memory.rawItem(NAME)).not.toHaveProperty('expiresAt');
  await breaker.disable();
  expect(t.memory.rawItem(NAME)).not.toHaveProperty('expiresAt');
  await expect(breaker.execute(boom)).rejects.toThrow(); // counted while disabled, still no expiry
  expect(t.memory.rawItem(NAME)).toMatchObject({ state: 'DISABLED' });
  expect(t.memory.rawItem(NAME)).not.toHaveProperty('expiresAt');
  await breaker.reset();
  expect(t.expiresAt()).toBe(t.expected());
});

test('a count from an instance that had not seen the disable yet leaves no expiry: it belongs to the closed period, so it is discarded', async () => {
  const t = fleet({ stateCacheMs: 60_000 });
  const stale = t.instance();
  const events: BreakerEvent[] = [];
  stale.onEvent((event) => events.push(event));
  await stale.execute(ok); // caches CLOSED for a minute
  await t.instance().disable();
  await expect(stale.execute(boom)).rejects.toThrow();
  const item = t.memory.rawItem(NAME);
  expect(item).toMatchObject({ state: 'DISABLED' });
  expect(item).not.toHaveProperty('expiresAt');
  expect((await stale.getState()).failures).toBe(0);
  expect(events).toContainEqual(expect.objectContaining({ type: 'outcomeDiscarded', outcome: 'failure', reason: 'periodEnded' }));
});

test('itemTtlMs 0 writes no expiry at all', async () => {
  const t = fleet({ itemTtlMs: 0 });
  const breaker = t.instance();
  await expect(breaker.execute(boom)).rejects.toThrow();
  await expect(breaker.execute(boom)).rejects.toThrow();
  expect(t.memory.rawItem(NAME)).toMatchObject({ state: 'OPEN' });
  expect(t.memory.rawItem(NAME)).not.toHaveProperty('expiresAt');
});

test('an item the TTL deleted is a closed circuit: counting starts again, even for an instance that cached a later version', async () => {
  const t = fleet({ stateCacheMs: 0 });
  const breaker = t.instance();
  await expect(breaker.execute(boom)).rejects.toThrow();
  await expect(breaker.execute(boom)).rejects.toThrow(); // OPEN at version 1
  t.clock.advance(1_000);
  await breaker.execute(ok); // CLOSED at version 3
  expect(t.memory.rawItem(NAME)?.version).toBe(3);

  t.clock.advance(HOUR + 1_000);
  t.memory.putRawItem(NAME, undefined); // what DynamoDB's TTL does, some time after expiresAt
  await expect(breaker.execute(boom)).rejects.toThrow();
  await expect(breaker.execute(boom)).rejects.toThrow();
  const state = await breaker.getState();
  expect(state).toMatchObject({ state: 'OPEN', version: 1, problems: [] });
});
