/**
 * RedisStateStore on a real server, beyond the store contract: the scripts survive a SCRIPT FLUSH (as after a
 * failover), the server deletes an expired hash, and a hung or vanished server is a store error the breaker
 * handles by onStoreError, within storeTimeoutMs, with no unhandled rejection.
 */
import { CircuitBreaker, RedisStateStore, StoreTimeoutError, type BreakerEvent } from '../../../src/breaker';
import { SCRIPTS } from '../../../src/breaker/store/redisScripts';
import { startTestRedis, type TestRedis, type TestRedisClient } from '../../support/redisServer';

let redis: TestRedis;
let admin: TestRedisClient;

beforeAll(async () => {
  redis = await startTestRedis();
  admin = await redis.newClient();
});
afterAll(async () => {
  await redis?.stop();
});

const budget = () => ({ abortSignal: AbortSignal.timeout(10_000) });
const NOW = Date.now();

test('after SCRIPT FLUSH (a restarted or failed-over server) every operation reloads its script and works', async () => {
  const store = new RedisStateStore({ client: await redis.newClient() });
  await store.recordCount('flush', { increments: { f_1: 1 }, staleCounters: [], now: NOW }, budget());
  await admin.sendCommand(['SCRIPT', 'FLUSH']);
  expect((await store.recordCount('flush', { increments: { f_1: 1 }, staleCounters: [], now: NOW }, budget())).record.counters).toEqual({ f_1: 2 });
  expect(await admin.sendCommand(['SCRIPT', 'EXISTS', SCRIPTS.recordCount.sha1])).toEqual([1]);
});

test('the server deletes a hash whose expiresAt has passed: the circuit reads as closed and new', async () => {
  const store = new RedisStateStore({ client: await redis.newClient() });
  const past = Math.floor(NOW / 1000) - 1;
  const outcome = await store.recordCount('expired', { increments: { f_1: 1 }, staleCounters: [], now: NOW, expiresAt: past }, budget());
  expect(outcome.applied).toBe(true);
  expect(await admin.sendCommand(['EXISTS', 'circuit-breaker:expired'])).toBe(0);
  expect(await store.read('expired', budget())).toMatchObject({ state: 'CLOSED', version: null, problems: [], slotAndCounterNames: [] });
});

test('counters are hash fields changed by HINCRBY; the hash has no field the layout does not name', async () => {
  const store = new RedisStateStore({ client: await redis.newClient(), keyPrefix: 'app:' });
  await store.recordCount('layout', { increments: { f_1: 2 }, staleCounters: [], now: NOW, expiresAt: Math.ceil(NOW / 1000) + 60 }, budget());
  const fields = (await admin.sendCommand(['HKEYS', 'app:layout'])) as string[];
  expect(fields.sort()).toEqual(['expiresAt', 'f_1', 'state', 'updatedAt', 'version']);
  expect(await admin.sendCommand(['HGET', 'app:layout', 'f_1'])).toBe('2');
});

test("a hung server (stopped with SIGSTOP): the breaker stops waiting at storeTimeoutMs and applies 'allow'", async () => {
  const frozen = await startTestRedis();
  const client = await frozen.newClient();
  const events: BreakerEvent[] = [];
  const breaker = new CircuitBreaker({ name: 'hung', store: new RedisStateStore({ client }), storeTimeoutMs: 100, storeMaxAttempts: 2, onStoreError: 'allow' });
  breaker.onEvent((event) => events.push(event));
  process.kill(frozen.server.pid, 'SIGSTOP');
  try {
    await expect(breaker.execute(async () => 'served')).resolves.toBe('served');
    const storeError = events.find((e) => e.type === 'storeError');
    expect(storeError).toMatchObject({ operation: 'read', policy: 'allow' });
    expect(storeError?.type === 'storeError' && storeError.error.cause).toBeInstanceOf(StoreTimeoutError);
  } finally {
    process.kill(frozen.server.pid, 'SIGCONT');
    await frozen.stop();
  }
});

test("a server that went away: a store error, and 'deny' rejects without calling", async () => {
  const gone = await startTestRedis();
  const client = await gone.newClient();
  await gone.server.stop();
  const breaker = new CircuitBreaker({ name: 'gone', store: new RedisStateStore({ client }), storeTimeoutMs: 1_000, onStoreError: 'deny' });
  const events: BreakerEvent[] = [];
  breaker.onEvent((event) => events.push(event));
  const fn = jest.fn(async () => 'never');
  await expect(breaker.execute(fn)).rejects.toMatchObject({ name: 'CircuitOpenError', state: 'STORE_UNAVAILABLE' });
  expect(fn).not.toHaveBeenCalled();
  expect(events.some((e) => e.type === 'storeError')).toBe(true);
  await gone.stop();
});
