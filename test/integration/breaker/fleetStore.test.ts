/**
 * Issue 11 against a real DynamoDB-compatible server (the integration backend) behind the bench's throttling proxy,
 * which enforces per-item read and write units with DynamoDB's own ProvisionedThroughputExceededException, and can
 * drop every connection (the breaker table unreachable). The proxy's clock and the breakers' clock are injected (a
 * throttled write's retry rides on the next call after its backoff step): no time passes, nothing depends on the
 * machine's speed (store budgets are generous).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startThrottlingProxy, type RunningThrottlingProxy } from '../../../bench/throttlingProxy';
import { CircuitBreaker, CircuitOpenError, DynamoDBStateStore, type BreakerEvent, type CircuitBreakerOptions } from '../../../src/breaker';
import { clientFor, startBreakerTable, type BreakerTable } from '../../support/breaker/breakerTable';
import { ManualClock } from '../../support/breaker/clock';

let table: BreakerTable;
let proxy: RunningThrottlingProxy;
let proxyClock = 0;
const clients: DynamoDBClient[] = [];

beforeAll(async () => {
  table = await startBreakerTable('fleet-breakers');
  proxy = await startThrottlingProxy({ target: table.endpoint, now: () => proxyClock });
});
afterAll(async () => {
  for (const client of clients) client.destroy();
  await proxy?.stop();
  await table?.stop();
});
beforeEach(() => {
  proxyClock = 0;
  proxy.setReachable(true);
  proxy.resetCounts();
});

function fleet(size: number, circuit: string, options: Partial<CircuitBreakerOptions>) {
  const clock = new ManualClock();
  return Array.from({ length: size }, () => {
    const client = clientFor(proxy.endpoint);
    clients.push(client);
    const events: BreakerEvent[] = [];
    const breaker = new CircuitBreaker({
        name: circuit,
        store: new DynamoDBStateStore({ tableName: table.tableName, client }),
        failureThreshold: 5,
        windowMs: 60_000,
        openMs: 2_000,
        maxOpenMs: 8_000,
        halfOpenMaxCalls: 1,
        timeoutMs: 2_000,
        slowCallMs: 2_000,
        // Generous: the machine is loaded; the test is about counts, not speed.
        storeTimeoutMs: 10_000,
        random: () => 0,
        now: clock.now,
        ...options,
    });
    breaker.onEvent((event) => events.push(event));
    return { breaker, events, clock };
  });
}

test('throttled failure writes never let more calls reach a dead downstream than threshold + one per instance', async () => {
  const size = 12;
  const threshold = 5;
  // Three write units at once and no refill until the test moves the proxy's clock: 9 of the first 12 failure writes are throttled.
  proxy.setLimits({ readUnitsPerSecond: 1_000, writeUnitsPerSecond: 3 });
  const instances = fleet(size, 'throttled-outage', { failureThreshold: threshold });
  let reached = 0;
  const dead = async (): Promise<never> => {
    reached++;
    throw new Error('directory down');
  };
  const round = () => Promise.all(instances.map(({ breaker }) => breaker.execute(dead).catch((error: unknown) => error)));

  for (let r = 0; r < 4; r++) await round();
  // Each refill pays for three writes; the retries (each after its backoff step, on the instance's next call, reading
  // first) and the opening share them. The breakers' clock moves by the longest step each time (5 s, inside the window).
  for (let refill = 0; refill < 15; refill++) {
    proxyClock += 1_000;
    instances[0].clock.advance(600);
    await round();
  }

  // Calls admitted as closed calls reached the dead downstream at most threshold + once per instance; the rest were
  // trials, one per half-open round (the breakers' clock passed the open periods).
  const completed = instances.flatMap(({ events }) => events.filter((e) => e.type === 'callCompleted'));
  const closedCalls = completed.filter((e) => e.type === 'callCompleted' && e.state === 'CLOSED').length;
  const trials = completed.length - closedCalls;
  const rounds = instances.flatMap(({ events }) => events.filter((e) => e.type === 'stateChange' && e.to === 'HALF_OPEN')).length;
  expect(reached).toBe(completed.length);
  expect(closedCalls).toBeLessThanOrEqual(threshold + size);
  expect(trials).toBeLessThanOrEqual(rounds);
  const throttled = proxy.counts().UpdateItem?.throttled ?? 0;
  expect(throttled).toBeGreaterThan(0); // the bound held while writes were being throttled
  const opened = instances.flatMap(({ events }) => events.filter((e) => e.type === 'stateChange' && e.from === 'CLOSED' && e.to === 'OPEN'));
  expect(opened).toHaveLength(1);
  const rejections = await Promise.all(instances.map(({ breaker }) => breaker.execute(dead).catch((error: unknown) => error)));
  expect(rejections.every((error) => error instanceof CircuitOpenError)).toBe(true);
  expect((await instances[0].breaker.getState()).state).toBe('OPEN');
});

test("breaker table unreachable: under 'local' each instance opens its own circuit (threshold + one trial per open period)", async () => {
  const size = 4;
  const threshold = 3;
  const instances = fleet(size, 'unreachable-table', { failureThreshold: threshold, onStoreError: 'local', openMs: 2_000 });
  const reached = new Map<number, number>();
  const deadFor = (index: number) => async (): Promise<never> => {
    reached.set(index, (reached.get(index) ?? 0) + 1);
    throw new Error('directory down');
  };
  proxy.setReachable(false);
  for (let call = 0; call < 8; call++) {
    await Promise.all(instances.map(({ breaker }, index) => breaker.execute(deadFor(index)).catch(() => undefined)));
  }
  expect([...reached.values()]).toEqual(Array(size).fill(threshold));
  for (const { events, breaker } of instances) {
    expect(breaker.currentMode).toBe('local');
    expect(events.filter((e) => e.type === 'localMode')).toMatchObject([{ active: true }]);
    expect(events.filter((e) => e.type === 'localStateChange')).toMatchObject([{ from: 'CLOSED', to: 'OPEN' }]);
    expect(events.find((e) => e.type === 'storeError')).toMatchObject({ mode: 'local', policy: 'local', kind: 'unreachable' });
  }
  // The local open period ends: one trial per instance, which fails and reopens it.
  instances[0].clock.advance(2_000);
  for (let call = 0; call < 4; call++) {
    await Promise.all(instances.map(({ breaker }, index) => breaker.execute(deadFor(index)).catch(() => undefined)));
  }
  expect([...reached.values()]).toEqual(Array(size).fill(threshold + 1));
  // The table answers again: each instance returns to the shared state (CLOSED, never told of the local failures)
  // once its local open period (4 s, the next backoff step) has ended.
  proxy.setReachable(true);
  instances[0].clock.advance(1_000);
  const stillLocallyOpen = await instances[0].breaker.execute(async () => 'ok').catch((error: unknown) => error);
  expect(stillLocallyOpen).toBeInstanceOf(CircuitOpenError);
  expect(instances[0].breaker.currentMode).toBe('shared');
  instances[0].clock.advance(3_000);
  for (const { breaker, events } of instances) {
    await expect(breaker.execute(async () => 'ok')).resolves.toBe('ok');
    expect(events.filter((e) => e.type === 'localMode').map((e) => e.type === 'localMode' && e.active)).toEqual([true, false]);
  }
});
