/**
 * Four OS processes, each a "container" with its own breaker and several concurrent callers, share one breaker item
 * in one store (DynamoDB: dynalite, or DynamoDB Local with DYNAMODB_BACKEND=dynamodb-local; Redis with
 * STATE_STORE_BACKEND=redis, in `npm run test:redis`; the workers get its address over IPC) and one downstream HTTP server on 127.0.0.1 (which counts requests on its side).
 * Coordination is by IPC messages and server-side request events, never by sleeping.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { CircuitBreaker, type CircuitBreakerOptions } from '../../../src/breaker';
import type { WorkerCommand, WorkerReply } from '../../support/breaker/breakerWorker';
import { startDownstream, type Downstream } from '../../support/breaker/downstream';
import { startStoreBackend, type StoreBackend } from '../../support/breaker/storeBackend';

const WORKERS = 4;
const CALLERS = 3;
const WORKER_FILE = path.join(__dirname, '../../support/breaker/breakerWorker.ts');

interface Worker {
  process: ChildProcess;
  replies: WorkerReply[];
  waiters: Array<() => void>;
  stderr: string[];
}

let backend: StoreBackend;
let downstream: Downstream;
let workers: Worker[] = [];

function spawnWorker(): Worker {
  const child = fork(WORKER_FILE, [], { execArgv: ['--import', 'tsx'], silent: true, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  const worker: Worker = { process: child, replies: [], waiters: [], stderr: [] };
  child.stderr?.on('data', (chunk: Buffer) => worker.stderr.push(chunk.toString()));
  child.on('message', (reply: WorkerReply) => {
    worker.replies.push(reply);
    for (const wake of worker.waiters.splice(0)) wake();
  });
  return worker;
}

/** Resolves with the first unconsumed reply of this type (waiting for it if needed). */
async function next<T extends WorkerReply['type']>(worker: Worker, type: T): Promise<Extract<WorkerReply, { type: T }>> {
  for (;;) {
    const index = worker.replies.findIndex((reply) => reply.type === type);
    if (index >= 0) return worker.replies.splice(index, 1)[0] as Extract<WorkerReply, { type: T }>;
    if (worker.process.exitCode !== null) throw new Error(`worker exited (${worker.process.exitCode}): ${worker.stderr.join('')}`);
    await new Promise<void>((resolve) => worker.waiters.push(resolve));
  }
}

function command(worker: Worker, message: WorkerCommand): void {
  worker.process.send(message);
}

const baseOptions = {
  openMs: 60_000,
  timeoutMs: 10_000,
  slowCallMs: 10_000,
  halfOpenMaxCalls: 2,
  halfOpenSuccessThreshold: 2,
  storeTimeoutMs: 30_000, // generous: a loaded machine must not look like an outage
  storeMaxAttempts: 1,
};

async function configureAll(name: string, options: Partial<CircuitBreakerOptions>, on: Worker[] = workers): Promise<void> {
  for (const worker of on) {
    command(worker, { cmd: 'configure', target: backend.target as NonNullable<StoreBackend['target']>, downstreamUrl: downstream.url, options: { ...baseOptions, ...options, name } as never });
  }
  await Promise.all(on.map((worker) => next(worker, 'ready')));
}

async function skewAll(offsetMs: number, on: Worker[] = workers): Promise<void> {
  for (const worker of on) command(worker, { cmd: 'skew', offsetMs });
  await Promise.all(on.map((worker) => next(worker, 'ready')));
}

async function observer(name: string, now: () => number = Date.now): Promise<CircuitBreaker> {
  return new CircuitBreaker({ ...baseOptions, name, store: await backend.newStore(), now });
}

const stateOf = async (name: string) => (await observer(name)).getState();

beforeAll(async () => {
  [backend, downstream] = await Promise.all([startStoreBackend(), startDownstream('fail')]);
  workers = Array.from({ length: WORKERS }, spawnWorker);
  await Promise.all(workers.map((worker) => next(worker, 'ready')));
});

afterAll(async () => {
  for (const worker of workers) if (worker.process.exitCode === null && worker.process.signalCode === null) worker.process.disconnect();
  await Promise.all(workers.map((worker) => (worker.process.exitCode !== null || worker.process.signalCode !== null ? undefined : new Promise((r) => worker.process.once('exit', r)))));
  await downstream?.stop();
  await backend?.stop();
});

beforeEach(() => {
  downstream.setMode('fail');
  downstream.resetStats();
});

test('no failure count is lost across processes', async () => {
  await configureAll('mp-count', { failureThreshold: 1_000_000 });
  for (const worker of workers) command(worker, { cmd: 'hammer', callers: CALLERS, maxCalls: 10 });
  const results = await Promise.all(workers.map((worker) => next(worker, 'hammerDone')));
  expect(results.reduce((sum, r) => sum + r.storeErrors, 0)).toBe(0);
  expect(downstream.stats().requests).toBe(WORKERS * CALLERS * 10);
  expect((await stateOf('mp-count')).failures).toBe(WORKERS * CALLERS * 10);
});

test('the circuit opens once; half-open admits at most halfOpenMaxCalls trials across processes; a healed downstream closes it', async () => {
  await configureAll('mp-cycle', { failureThreshold: 5 });
  for (const worker of workers) command(worker, { cmd: 'hammer', callers: CALLERS, maxCalls: 1_000 });
  const results = await Promise.all(workers.map((worker) => next(worker, 'hammerDone')));
  expect(results.reduce((sum, r) => sum + r.storeErrors, 0)).toBe(0);
  expect(results.reduce((sum, r) => sum + r.opened, 0)).toBe(1);
  const calls = downstream.stats().requests;
  expect(calls).toBe(results.reduce((sum, r) => sum + r.calls, 0));
  expect(calls).toBeGreaterThanOrEqual(5);
  expect(calls).toBeLessThanOrEqual(5 + WORKERS * CALLERS); // at most one in-flight call per caller beyond the threshold
  expect((await stateOf('mp-cycle')).state).toBe('OPEN');

  // Past the open period, every caller of every process tries at once while the downstream holds what it gets.
  await skewAll(60_000);
  downstream.setMode('hold');
  downstream.resetStats();
  const total = WORKERS * CALLERS;
  for (const worker of workers) command(worker, { cmd: 'burst', callers: CALLERS });
  const rejected = async () => {
    const outcomes = await Promise.all(workers.map(async (worker) => worker.replies.filter((r) => r.type === 'outcome').length));
    return outcomes.reduce((a, b) => a + b, 0);
  };
  // Wait until every caller either was rejected or reached the downstream.
  await new Promise<void>((resolve) => {
    const check = async () => {
      if ((await rejected()) + downstream.stats().requests === total) resolve();
    };
    downstream.onRequest(() => void check());
    for (const worker of workers) worker.process.on('message', () => void check());
    void check();
  });
  expect(downstream.stats()).toMatchObject({ maxInFlight: 2, inFlight: 2, requests: 2 });
  downstream.release();
  const outcomes = await Promise.all(workers.flatMap((worker) => Array.from({ length: CALLERS }, () => next(worker, 'outcome'))));
  expect(outcomes.filter((o) => o.result === 'ok')).toHaveLength(2);
  expect(outcomes.filter((o) => o.result === 'CircuitOpenError' && o.state === 'HALF_OPEN')).toHaveLength(total - 2);
  expect(await stateOf('mp-cycle')).toMatchObject({ state: 'CLOSED', failures: 0, trialsInFlight: 0 });
});

test('a trial holder killed mid-call does not wedge the circuit: its lease expires and a healed downstream closes it', async () => {
  const options = { failureThreshold: 1, halfOpenMaxCalls: 1, timeoutMs: 2_000, slowCallMs: 2_000, permitLeaseMarginMs: 1_000 };
  await configureAll('mp-kill', options);
  const [victim, witness] = workers;
  command(victim, { cmd: 'hammer', callers: 1, maxCalls: 1 });
  await next(victim, 'hammerDone');
  expect((await stateOf('mp-kill')).state).toBe('OPEN');

  await skewAll(60_000, [victim, witness]);
  downstream.setMode('hold');
  const arrived = new Promise<void>((resolve) => {
    const off = downstream.onRequest(() => {
      off();
      resolve();
    });
  });
  command(victim, { cmd: 'burst', callers: 1 });
  await arrived; // the victim holds the only trial permit and is inside the call
  const exited = new Promise((resolve) => victim.process.once('exit', resolve));
  victim.process.kill('SIGKILL');
  await exited;
  // Read on the fleet's (skewed) clock: a lease more than timeoutMs + 2 x permitLeaseMarginMs ahead of the reader's
  // clock is out of bounds and treated as closed (docs/breaker.md, clocks).
  expect(await (await observer('mp-kill', () => Date.now() + 60_000)).getState()).toMatchObject({ state: 'HALF_OPEN', trialsInFlight: 1 });

  // Within the lease, the dead holder's permit still counts: another process is rejected.
  command(witness, { cmd: 'burst', callers: 1 });
  expect(await next(witness, 'outcome')).toEqual({ type: 'outcome', result: 'CircuitOpenError', state: 'HALF_OPEN' });

  // Past the lease (timeoutMs + margin) another instance takes the permit; the healed downstream closes the circuit.
  downstream.setMode('ok');
  const later = await observer('mp-kill', () => Date.now() + 60_000 + 3_001);
  await expect(later.execute(async () => 'first trial')).resolves.toBe('first trial');
  await expect(later.execute(async () => 'second trial')).resolves.toBe('second trial');
  expect(await later.getState()).toMatchObject({ state: 'CLOSED', trialsInFlight: 0 });
});
