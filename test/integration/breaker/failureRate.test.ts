/**
 * Issue 14 with real concurrency: four OS processes (each a "container" with its own breakers and three concurrent
 * callers) share breaker items on one DynamoDB backend (dynalite, or DynamoDB Local with
 * DYNAMODB_BACKEND=dynamodb-local via `npm run test:dynamodb-local`).
 *
 * Time is the test's, not the machine's: the run is a sequence of phases, and in each phase every process sets its
 * clock to the phase's time and its callers make their calls (rateWorker.ts). So buckets, cache expiry and flush
 * periods fall the same way however loaded the machine is; assertions are on counts and states only.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { CircuitBreaker, DynamoDBStateStore, type CircuitBreakerOptions } from '../../../src/breaker';
import { startBreakerTable, type BreakerTable } from '../../support/breaker/breakerTable';
import type { CircuitTally, RateWorkerCommand, RateWorkerReply } from '../../support/breaker/rateWorker';

jest.setTimeout(180_000);

const WORKERS = 4;
const CALLERS = 3;
const WORKER_FILE = path.join(__dirname, '../../support/breaker/rateWorker.ts');
/** A whole minute, so phase times fall on bucket starts. */
const T0 = 1_700_000_040_000;

const common = {
  timeoutMs: 10_000,
  slowCallMs: 10_000,
  openMs: 60_000,
  stateCacheMs: 1_000,
  // The closed state is refreshed every phase too (at most 1 s, jittered shorter).
  closedStateCacheMs: 1_000,
  storeTimeoutMs: 30_000, // generous: a loaded machine must not look like an outage
  storeMaxAttempts: 1,
};
/** The rate policy: 50 % over at least 20 calls, a 60 s window of 6 s buckets, successes flushed every 5 s. */
const RATE = { ...common, failureRateThreshold: 0.5, minimumCalls: 20, windowMs: 60_000, windowBuckets: 10, countFlushMs: 5_000 };
const BUCKET_MS = 6_000;
/** The longest a success takes to reach the item: countFlushMs + stateCacheMs. */
const FLUSH_LAG_MS = RATE.countFlushMs + RATE.stateCacheMs;

interface Worker {
  process: ChildProcess;
  replies: RateWorkerReply[];
  waiters: Array<() => void>;
  stderr: string[];
}

let table: BreakerTable;
let workers: Worker[] = [];

function spawnWorker(): Worker {
  const child = fork(WORKER_FILE, [], { execArgv: ['--import', 'tsx'], silent: true, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  const worker: Worker = { process: child, replies: [], waiters: [], stderr: [] };
  child.stderr?.on('data', (chunk: Buffer) => worker.stderr.push(chunk.toString()));
  child.on('message', (reply: RateWorkerReply) => {
    worker.replies.push(reply);
    for (const wake of worker.waiters.splice(0)) wake();
  });
  return worker;
}

async function next<T extends RateWorkerReply['type']>(worker: Worker, type: T): Promise<Extract<RateWorkerReply, { type: T }>> {
  for (;;) {
    const index = worker.replies.findIndex((reply) => reply.type === type);
    if (index >= 0) return worker.replies.splice(index, 1)[0] as Extract<RateWorkerReply, { type: T }>;
    if (worker.process.exitCode !== null) throw new Error(`worker exited (${worker.process.exitCode}): ${worker.stderr.join('')}`);
    await new Promise<void>((resolve) => worker.waiters.push(resolve));
  }
}

function command(worker: Worker, message: RateWorkerCommand): void {
  worker.process.send(message);
}

async function configureAll(breakers: Array<{ name: string; options: Partial<CircuitBreakerOptions> }>): Promise<void> {
  workers.forEach((worker, index) =>
    command(worker, { cmd: 'configure', endpoint: table.endpoint, tableName: table.tableName, seed: 1_000 + index, breakers: breakers as never }),
  );
  await Promise.all(workers.map((worker) => next(worker, 'ready')));
}

/** One phase on every process at once; resolves with each process's tallies (cumulative since configure). */
async function phase(time: number, names: string[], options: { callers?: number; calls: number; failRate: number }): Promise<Array<Record<string, CircuitTally>>> {
  for (const worker of workers) command(worker, { cmd: 'phase', time, names, callers: options.callers ?? CALLERS, calls: options.calls, failRate: options.failRate });
  return (await Promise.all(workers.map((worker) => next(worker, 'phaseDone')))).map((reply) => reply.tallies);
}

/** The fleet's total of one tally field for one circuit. */
function total(tallies: Array<Record<string, CircuitTally>>, name: string, pick: (tally: CircuitTally) => number): number {
  return tallies.reduce((sum, byName) => sum + pick(byName[name]), 0);
}
const rejected = (tally: CircuitTally) => Object.values(tally.rejected).reduce((a, b) => a + b, 0);

function observer(name: string, options: Partial<CircuitBreakerOptions>, now: () => number): CircuitBreaker {
  return new CircuitBreaker({ ...options, name, store: new DynamoDBStateStore({ tableName: table.tableName, client: table.newClient() }), now } as CircuitBreakerOptions);
}

beforeAll(async () => {
  table = await startBreakerTable();
  workers = Array.from({ length: WORKERS }, spawnWorker);
  await Promise.all(workers.map((worker) => next(worker, 'ready')));
});

afterAll(async () => {
  for (const worker of workers) if (worker.process.exitCode === null && worker.process.signalCode === null) worker.process.disconnect();
  await Promise.all(workers.map((worker) => (worker.process.exitCode !== null || worker.process.signalCode !== null ? undefined : new Promise((r) => worker.process.once('exit', r)))));
  await table?.stop();
});

test('(1) 1 % background failures over 7,200 calls: the rate policy never opens; the count policy, in the same run, does', async () => {
  // Why the rate policy exists: a fleet making 120 calls/s with 1 % errors fails about 72 times a minute, so "5
  // failures in 60 s" opens on noise alone. Half of all calls failing is another matter.
  await configureAll([
    { name: 'noise-rate', options: RATE },
    { name: 'noise-count', options: { ...common, failureThreshold: 5, windowMs: 60_000 } },
  ]);
  const PHASES = 60;
  let tallies: Array<Record<string, CircuitTally>> = [];
  for (let k = 0; k < PHASES; k++) tallies = await phase(T0 + k * 1_000, ['noise-rate', 'noise-count'], { calls: 10, failRate: 0.01 });

  const attempted = PHASES * WORKERS * CALLERS * 10;
  expect(total(tallies, 'noise-rate', (t) => t.storeErrors)).toBe(0);
  expect(total(tallies, 'noise-rate', (t) => t.opened.length)).toBe(0);
  expect(total(tallies, 'noise-rate', rejected)).toBe(0);
  expect(total(tallies, 'noise-rate', (t) => t.downstream)).toBe(attempted);
  const failed = total(tallies, 'noise-rate', (t) => t.failed);
  expect(failed).toBeGreaterThan(0); // the noise is real
  // The healthy path: one refresh per process per phase (its cache expired), plus the writes failures made.
  expect(total(tallies, 'noise-rate', (t) => t.storeRequests)).toBeLessThanOrEqual(WORKERS * PHASES + failed);
  const snapshot = await observer('noise-rate', RATE, () => T0 + PHASES * 1_000).getState();
  expect(snapshot).toMatchObject({ state: 'CLOSED' });
  expect(snapshot.calls).toBeGreaterThan(attempted / 2); // successes are counted fleet-wide
  expect(snapshot.failureRate).toBeLessThan(0.05);

  expect(total(tallies, 'noise-count', (t) => t.opened.length)).toBeGreaterThanOrEqual(1);
  expect(total(tallies, 'noise-count', (t) => t.rejected.OPEN ?? 0)).toBeGreaterThan(attempted / 4);
});

test('(2) the downstream dies after a long healthy period: opens once, within one bucket plus one flush period', async () => {
  await configureAll([{ name: 'outage', options: RATE }]);
  const HEALTHY = 70; // longer than the window: every bucket full of successes
  for (let k = 0; k < HEALTHY; k++) await phase(T0 + k * 1_000, ['outage'], { calls: 10, failRate: 0.01 });
  const died = T0 + HEALTHY * 1_000;
  let tallies: Array<Record<string, CircuitTally>> = [];
  for (let k = 0; k < 20; k++) tallies = await phase(died + k * 1_000, ['outage'], { calls: 10, failRate: 1 });

  expect(total(tallies, 'outage', (t) => t.storeErrors)).toBe(0);
  const opened = tallies.flatMap((byName) => byName.outage.opened);
  expect(opened).toHaveLength(1);
  // Bound: the judged span reaches back 2 x FLUSH_LAG_MS in whole buckets, so half of it is failures at the latest
  // bucketMs + FLUSH_LAG_MS after the outage began (docs/breaker.md, "Failure-rate policy").
  expect(opened[0] - died).toBeLessThanOrEqual(BUCKET_MS + FLUSH_LAG_MS);
  const snapshot = await observer('outage', RATE, () => died + 20_000).getState();
  expect(snapshot).toMatchObject({ state: 'OPEN', openReason: 'failureRate', openedAt: opened[0] });
  expect((snapshot.openFailures as number) / (snapshot.openCalls as number)).toBeGreaterThanOrEqual(0.5);
  expect(snapshot.openCalls).toBeGreaterThanOrEqual(20);
});

test('(3) no flushed count is lost: the item holds exactly what the processes flushed, and every outcome once flushed', async () => {
  // A 10-minute window: nothing goes stale during the run, so the item's window totals are every count ever added.
  const LEDGER = { ...RATE, windowMs: 600_000, failureRateThreshold: 1, minimumCalls: 1_000_000 };
  await configureAll([{ name: 'ledger', options: LEDGER }]);
  const PHASES = 20;
  for (let k = 0; k < PHASES; k++) await phase(T0 + k * 1_000, ['ledger'], { calls: 10, failRate: 0.05 });
  // Past the flush period every process's next refresh carries all it holds; the one call each makes then is held.
  const tallies = await phase(T0 + PHASES * 1_000 + RATE.countFlushMs, ['ledger'], { callers: 1, calls: 1, failRate: 0 });

  expect(total(tallies, 'ledger', (t) => t.storeErrors)).toBe(0);
  const snapshot = await observer('ledger', LEDGER, () => T0 + PHASES * 1_000 + RATE.countFlushMs).getState();
  expect(snapshot.calls).toBe(total(tallies, 'ledger', (t) => t.flushed.calls));
  expect(snapshot.failures).toBe(total(tallies, 'ledger', (t) => t.flushed.failures));
  expect(snapshot.failures).toBe(total(tallies, 'ledger', (t) => t.failed));
  expect(snapshot.calls).toBe(total(tallies, 'ledger', (t) => t.downstream) - WORKERS);
});

test('(4) after a close with ramp-up, the admitted share grows as configured; a caller not admitted never reaches the downstream', async () => {
  const RAMP = { ...common, failureThreshold: 5, windowMs: 60_000, openMs: 5_000, halfOpenMaxCalls: 2, halfOpenSuccessThreshold: 2, rampUpMs: 8_000, rampUpStartFraction: 0.1 };
  await configureAll([{ name: 'ramp', options: RAMP }]);
  await phase(T0, ['ramp'], { calls: 3, failRate: 1 });
  const watch = (at: number) => observer('ramp', RAMP, () => at).getState();
  expect((await watch(T0)).state).toBe('OPEN');

  // Past the open period the fleet's trials succeed and close it (a phase may end with one trial done: run another).
  const closing = T0 + 6_000;
  for (let attempt = 0; attempt < 5 && (await watch(closing)).state !== 'CLOSED'; attempt++) await phase(closing, ['ramp'], { callers: 1, calls: 1, failRate: 0 });
  const closed = await watch(closing);
  expect(closed).toMatchObject({ state: 'CLOSED', closedAt: closing });

  let before = (await phase(closing + 1_000, ['ramp'], { callers: 1, calls: 0, failRate: 0 })).map((byName) => byName.ramp);
  const shares: number[] = [];
  for (const after of [1_000, 3_000, 5_000, 7_000, 9_000]) {
    const now = (await phase(closing + after, ['ramp'], { callers: 1, calls: 100, failRate: 0 })).map((byName) => byName.ramp);
    const admitted = now.reduce((sum, tally, i) => sum + tally.downstream - before[i].downstream, 0);
    const rampingUp = now.reduce((sum, tally, i) => sum + (tally.rejected.RAMPING_UP ?? 0) - (before[i].rejected.RAMPING_UP ?? 0), 0);
    // Every call either reached the downstream or was rejected as RAMPING_UP without reaching it.
    expect(admitted + rampingUp).toBe(WORKERS * 100);
    const expected = Math.min(1, 0.1 + (0.9 * after) / 8_000);
    shares.push(admitted / (WORKERS * 100));
    expect(Math.abs(admitted / (WORKERS * 100) - expected)).toBeLessThanOrEqual(0.1);
    before = now;
  }
  expect(shares).toEqual([...shares].sort((a, b) => a - b));
  expect(shares[shares.length - 1]).toBe(1);
});
