/**
 * 50 breaker instances in one process sharing one state item in a real store server (DynamoDB: dynalite, or DynamoDB
 * Local with DYNAMODB_BACKEND=dynamodb-local; Redis with STATE_STORE_BACKEND=redis, in `npm run test:redis`),
 * protecting one real HTTP downstream on 127.0.0.1. Every claim is checked with real concurrency.
 */
import { CircuitBreaker, CircuitOpenError, type BreakerEvent, type CircuitBreakerOptions } from '../../../src/breaker';
import { startDownstream, type Downstream } from '../../support/breaker/downstream';
import { startStoreBackend, type StoreBackend } from '../../support/breaker/storeBackend';

const INSTANCES = 50;
/**
 * The most storeTimeoutMs allows. dynalite applies writes to one item one at a time, so on a loaded machine a request
 * queued behind 300 others can wait many seconds; no assertion here may depend on that (counts and states only).
 */
const STORE_BUDGET_MS = 60_000;
jest.setTimeout(240_000);
let backend: StoreBackend;
let downstream: Downstream;
let circuitSeq = 0;

beforeAll(async () => {
  backend = await startStoreBackend();
  downstream = await startDownstream('fail');
});
afterAll(async () => {
  await downstream?.stop();
  await backend?.stop();
});

/** A clock shared by the instances that tests move forward (past open periods, past leases). */
const skew = { ms: 0 };
const now = () => Date.now() + skew.ms;

async function fleet(overrides: Partial<CircuitBreakerOptions> = {}) {
  const name = `fleet-${++circuitSeq}`;
  const events: BreakerEvent[] = [];
  const store = await backend.newStore();
  // Each instance its own store and client, as separate containers would have.
  const stores = await Promise.all(Array.from({ length: INSTANCES }, () => backend.newStore()));
  const instances = stores.map((instanceStore) => {
    const breaker = new CircuitBreaker({
      name,
      store: instanceStore,
      failureThreshold: 5,
      openMs: 60_000,
      halfOpenMaxCalls: 2,
      halfOpenSuccessThreshold: 2,
      timeoutMs: 10_000,
      slowCallMs: 10_000,
      // The largest budget there is: 300 concurrent writes to one item on a loaded machine must not look like an
      // outage (a count that times out is never retried, and store failures are unit-tested). No assertion here
      // depends on the machine's speed, only on counts and states.
      storeTimeoutMs: STORE_BUDGET_MS,
      storeMaxAttempts: 1,
      random: () => 0,
      now,
      ...overrides,
    });
    breaker.onEvent((event) => events.push(event));
    return breaker;
  });
  const observer = new CircuitBreaker({ name, store, now, storeTimeoutMs: STORE_BUDGET_MS, storeMaxAttempts: 3 });
  return { name, instances, observer, events };
}

async function callDownstream(signal: AbortSignal): Promise<string> {
  const response = await fetch(`${downstream.url}/x`, { signal });
  const body = await response.text();
  if (!response.ok) throw new Error(`downstream answered ${response.status}`);
  return body;
}

const count = (events: BreakerEvent[], predicate: (e: BreakerEvent) => boolean) => events.filter(predicate).length;
/** Store errors as readable lines, so a failure says what went wrong. */
const storeErrors = (events: BreakerEvent[]) => events.flatMap((e) => (e.type === 'storeError' ? [`${e.operation}${e.skipped ? ' (skipped)' : ''}: ${e.error.message}`] : []));

beforeEach(() => {
  downstream.setMode('fail');
  downstream.resetStats();
  skew.ms = 0;
});

test('no failure count is lost: 50 instances x 6 concurrent failures are all counted', async () => {
  const { instances, observer, events } = await fleet({ failureThreshold: 1_000_000 });
  await Promise.all(instances.flatMap((breaker) => Array.from({ length: 6 }, () => breaker.execute(callDownstream).catch(() => undefined))));
  expect(storeErrors(events)).toEqual([]);
  expect(downstream.stats().requests).toBe(300);
  expect((await observer.getState()).failures).toBe(300);
});

test('the circuit opens exactly once, and downstream calls after the opening are bounded by one per instance', async () => {
  const { instances, observer, events } = await fleet();
  // Each instance calls in a loop until the circuit rejects it.
  await Promise.all(
    instances.map(async (breaker) => {
      for (;;) {
        try {
          await breaker.execute(callDownstream);
        } catch (error) {
          if (error instanceof CircuitOpenError) return;
        }
      }
    }),
  );
  expect(count(events, (e) => e.type === 'storeError')).toBe(0);
  expect(count(events, (e) => e.type === 'stateChange' && e.to === 'OPEN')).toBe(1);
  const calls = downstream.stats().requests;
  expect(calls).toBeGreaterThanOrEqual(5);
  expect(calls).toBeLessThanOrEqual(5 + INSTANCES);
  expect(await observer.getState()).toMatchObject({ state: 'OPEN', reopenCount: 0 });
});

test('half-open: of 50 instances calling at once at most halfOpenMaxCalls trials run; a healed downstream closes the circuit', async () => {
  const { instances, observer, events } = await fleet({ failureThreshold: 1 });
  await instances[0].execute(callDownstream).catch(() => undefined);
  expect((await observer.getState()).state).toBe('OPEN');
  skew.ms = 60_000; // the open period is over for every instance
  downstream.setMode('hold');
  downstream.resetStats();
  // A rejection can settle before an admitted trial's request reaches the downstream: wait for both sides.
  const twoTrialsHeld = new Promise<void>((resolve) => {
    const stop = downstream.onRequest(() => {
      if (downstream.stats().inFlight < 2) return;
      stop();
      resolve();
    });
  });
  const outcomes = instances.map((breaker) => breaker.execute(callDownstream).then(() => 'ok', (e: Error) => e.name));
  // The 48 rejections settle while the two admitted trials are held by the downstream.
  const settled: string[] = [];
  const rejectionsSettled = new Promise<void>((resolve) => {
    outcomes.forEach((outcome) =>
      outcome.then((result) => {
        settled.push(result);
        if (settled.length === INSTANCES - 2) resolve();
      }),
    );
  });
  await Promise.all([rejectionsSettled, twoTrialsHeld]);
  expect(settled.every((name) => name === 'CircuitOpenError')).toBe(true);
  expect(downstream.stats()).toMatchObject({ inFlight: 2, maxInFlight: 2, requests: 2 });
  downstream.release();
  expect((await Promise.all(outcomes)).filter((o) => o === 'ok')).toHaveLength(2);
  expect(await observer.getState()).toMatchObject({ state: 'CLOSED', failures: 0, trialsInFlight: 0 });
  expect(count(events, (e) => e.type === 'stateChange' && e.to === 'HALF_OPEN')).toBe(1);
  expect(count(events, (e) => e.type === 'stateChange' && e.to === 'CLOSED')).toBe(1);
});

test('a failed trial reopens with backoff, exactly once across the fleet', async () => {
  const { instances, observer, events } = await fleet({ failureThreshold: 1, halfOpenMaxCalls: 3 });
  await instances[0].execute(callDownstream).catch(() => undefined);
  skew.ms = 60_000;
  await Promise.all(instances.map((breaker) => breaker.execute(callDownstream).catch(() => undefined)));
  expect(downstream.stats().requests).toBeLessThanOrEqual(1 + 3);
  const state = await observer.getState();
  expect(state).toMatchObject({ state: 'OPEN', reopenCount: 1 });
  expect((state.openUntil as number) - now()).toBeGreaterThan(60_000); // 2 x openMs from the reopening
  expect(count(events, (e) => e.type === 'stateChange' && e.reason === 'trialFailed')).toBe(1);
});

test('operator overrides reach every instance through the shared item', async () => {
  const { instances, observer } = await fleet({ stateCacheMs: 0 });
  downstream.setMode('ok');
  await observer.forceOpen();
  const forced = await Promise.all(instances.map((breaker) => breaker.execute(callDownstream).catch((e: CircuitOpenError) => e.state)));
  expect(new Set(forced)).toEqual(new Set(['FORCED_OPEN']));
  await observer.disable();
  downstream.setMode('fail');
  await Promise.all(instances.map((breaker) => breaker.execute(callDownstream).catch(() => undefined)));
  expect(await observer.getState()).toMatchObject({ state: 'DISABLED', failures: INSTANCES });
  await observer.reset();
  expect(await observer.getState()).toMatchObject({ state: 'CLOSED', failures: 0 });
});

test('a malformed item is treated as closed and repaired by the next write', async () => {
  const { name, instances, observer } = await fleet();
  await backend.putRaw(name, { state: 'WEIRD', version: 'x', p_0: 1 });
  expect((await observer.getState()).problems.length).toBeGreaterThan(0);
  await Promise.all(instances.slice(0, 3).map((breaker) => breaker.execute(callDownstream).catch(() => undefined)));
  expect(await observer.getState()).toMatchObject({ state: 'CLOSED', problems: [], failures: 3 });
});
