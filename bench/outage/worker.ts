/**
 * One OS process of the outage, fleet and noise scenarios: several concurrent callers, each looping over calls to the
 * downstream through this process's own guard (no breaker, the naive one, or ours), or each through its own guard
 * (`instancePerCaller`: one breaker instance per caller, like one Lambda container each). Driven entirely by IPC
 * (protocol.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CircuitOpenError } from '../../src/breaker/errors';
import { epochNow } from '../clock';
import { fetchUser } from '../downstreamCall';
import { storeErrorCause } from '../storeErrorCause';
import { localClient } from '../dynamo';
import { connectRedis, countRedisCommands, type BenchRedisClient } from '../redisCounter';
import { addCounts, countRequests, diffCounts, type RequestCounter, type RequestCounts } from '../requestCounter';
import { timedStore } from '../timedStore';
import { createGuard, type Guard, type GuardHooks, type VariantSpec } from '../variants';
import type { BreakerEvent, RedisCommandClient } from '../../src/breaker';
import type { CountReport, FromWorker, PhaseStats, ToWorker, WorkerReport, WorkerSetup } from './protocol';

const send = (message: FromWorker): void => {
  process.send?.(message);
};

/** Which call a breaker event belongs to: events fire in the async context of the execute() that caused them. */
const currentCall = new AsyncLocalStorage<string>();

interface Run {
  workerIndex: number;
  setup: WorkerSetup;
  client: DynamoDBClient;
  /** Present with setup.redisUrl: the connection, and the counted client the stores use. */
  redis?: { connection: BenchRedisClient; client: RedisCommandClient };
  /** DynamoDB requests, or Redis commands with setup.redisUrl. */
  counter: RequestCounter;
  /** One guard, or one per caller with instancePerCaller. */
  guards: Guard[];
  report: WorkerReport;
  phase: PhaseStats;
  phaseCountsAt: RequestCounts;
  running: boolean;
  callers: Promise<void>[];
  countsAtDeath?: RequestCounts;
  countsAtHeal?: RequestCounts;
  nextCall: number;
}

let run: Run | undefined;

function release(current: Run): void {
  for (const guard of current.guards) guard.dispose();
  current.client.destroy();
  if (current.redis?.connection.isOpen) current.redis.connection.destroy();
}

async function configure(message: Extract<ToWorker, { type: 'configure' }>): Promise<void> {
  if (run) release(run);
  run = undefined;
  const client = localClient(message.setup.dynamoEndpoint);
  let counter = countRequests(client);
  let redis: Run['redis'];
  if (message.setup.redisUrl !== undefined) {
    const connection = await connectRedis(message.setup.redisUrl);
    const counted = countRedisCommands(connection);
    counter.detach();
    counter = counted.counter;
    redis = { connection, client: counted.client };
  }
  const report: WorkerReport = {
    workerIndex: message.workerIndex,
    calls: 0,
    successes: 0,
    failures: 0,
    rejections: 0,
    dynamoDuringOutage: {},
    dynamoTotal: {},
    trialCallIds: [],
    unattributedTrials: 0,
    instances: message.setup.instancePerCaller ? message.setup.callers : 1,
    phases: { start: newPhase() },
    ...(message.setup.callLog ? { callLog: [] } : {}),
    ...(message.setup.timeStore ? { storeSamplesMs: {} } : {}),
  };
  const guards = Array.from({ length: report.instances }, () => guardFor(message.spec, client, message.setup.tableName, report, () => run?.phase, redis?.client));
  run = {
    workerIndex: message.workerIndex,
    setup: message.setup,
    client,
    ...(redis ? { redis } : {}),
    counter,
    guards,
    report,
    phase: report.phases.start,
    phaseCountsAt: {},
    running: false,
    callers: [],
    nextCall: 0,
  };
  send({ type: 'ready', workerIndex: message.workerIndex });
}

function newPhase(): PhaseStats {
  return { calls: 0, successes: 0, failures: 0, rejections: 0, rejectionsByState: {}, storeErrorsByCause: {}, opens: 0, closes: 0, dynamo: {} };
}

function guardFor(
  spec: VariantSpec,
  client: DynamoDBClient,
  tableName: string,
  report: WorkerReport,
  phase: () => PhaseStats | undefined,
  redis: RedisCommandClient | undefined,
): Guard {
  const samples = report.storeSamplesMs;
  return createGuard(spec, client, tableName, {
    ...(redis ? { redis } : {}),
    ...(samples ? { wrapStore: (store) => timedStore(store, samples) } : {}),
    onCallCompleted: (admittedIn) => {
      if (admittedIn !== 'HALF_OPEN') return;
      const callId = currentCall.getStore();
      if (callId === undefined) report.unattributedTrials += 1;
      else report.trialCallIds.push(callId);
    },
    onEvent: (event) => {
      const stats = phase();
      if (stats) countEvent(stats, event);
    },
  });
}

function countEvent(stats: PhaseStats, event: BreakerEvent): void {
  if (event.type === 'stateChange') {
    if (event.to === 'OPEN') stats.opens += 1;
    if (event.to === 'CLOSED') stats.closes += 1;
  } else if (event.type === 'storeError') {
    const cause = storeErrorCause(event.error);
    stats.storeErrorsByCause[cause] = (stats.storeErrorsByCause[cause] ?? 0) + 1;
  }
}

/** Closes the current phase's request counts and starts counting into `name`. */
function enterPhase(current: Run, name: string): void {
  const now = current.counter.counts();
  current.phase.dynamo = addCounts(current.phase.dynamo, diffCounts(now, current.phaseCountsAt));
  current.phaseCountsAt = now;
  current.phase = current.report.phases[name] ??= newPhase();
}

async function callerLoop(current: Run, callerIndex: number): Promise<void> {
  const deadline = epochNow() + current.setup.maxRunMs;
  const guard = current.guards[current.setup.instancePerCaller ? callerIndex : 0];
  const instance = current.setup.instancePerCaller ? `${current.workerIndex}.${callerIndex}` : `${current.workerIndex}`;
  let nextCall = 0;
  while (current.running && epochNow() < deadline) {
    const callId = current.setup.instancePerCaller ? `${instance}-${nextCall++}` : `${instance}-${current.nextCall++}`;
    current.report.calls += 1;
    const startedAt = epochNow();
    let admitted: 0 | 1 = 1;
    try {
      await currentCall.run(callId, () => guard.call((signal) => fetchUser(current.setup.downstreamUrl, 'demo-1', signal, callId)));
      current.report.successes += 1;
      current.phase.successes += 1;
    } catch (error) {
      if (error instanceof CircuitOpenError) {
        admitted = 0;
        current.report.rejections += 1;
        current.phase.rejections += 1;
        current.phase.rejectionsByState[error.state] = (current.phase.rejectionsByState[error.state] ?? 0) + 1;
        if (current.report.firstRejectionAt === undefined) {
          current.report.firstRejectionAt = epochNow();
          send({ type: 'firstRejection', workerIndex: current.workerIndex, at: current.report.firstRejectionAt });
        }
      } else {
        current.report.failures += 1;
        current.phase.failures += 1;
      }
    }
    current.phase.calls += 1;
    current.report.callLog?.push([epochNow(), admitted]);
    const pause = Math.max(current.setup.thinkMs, (current.setup.paceMs ?? 0) - (epochNow() - startedAt));
    if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

async function stop(current: Run): Promise<void> {
  current.running = false;
  await Promise.all(current.callers);
  enterPhase(current, 'stopped');
  if (current.report.phases.stopped?.calls === 0) delete current.report.phases.stopped;
  const total = current.counter.counts();
  current.report.dynamoTotal = total;
  current.report.dynamoDuringOutage = diffCounts(current.countsAtHeal ?? total, current.countsAtDeath ?? total);
  send({ type: 'report', report: current.report });
}

/**
 * Every caller makes exactly `callsPerCaller` calls against the dead downstream, with no pause, through a fresh
 * guard whose threshold is out of reach: every failure must end up in the state item.
 */
async function countFailures(current: Run, spec: VariantSpec, callsPerCaller: number): Promise<void> {
  for (const guard of current.guards) guard.dispose();
  const report: CountReport = { workerIndex: current.workerIndex, observedFailures: 0, rejections: 0, otherErrors: 0, dynamoRequests: {} };
  const hooks: GuardHooks = current.redis ? { redis: current.redis.client } : {};
  const guard = createGuard(spec, current.client, current.setup.tableName, hooks);
  const before = current.counter.counts();
  const caller = async (): Promise<void> => {
    for (let i = 0; i < callsPerCaller; i += 1) {
      try {
        await guard.call((signal) => fetchUser(current.setup.downstreamUrl, 'demo-1', signal));
        report.otherErrors += 1; // the downstream is down: a success means the scenario is broken
      } catch (error) {
        if (error instanceof CircuitOpenError) report.rejections += 1;
        else report.observedFailures += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: current.setup.callers }, caller));
  report.dynamoRequests = diffCounts(current.counter.counts(), before);
  guard.dispose();
  send({ type: 'countReport', report });
}

function handle(message: ToWorker): void {
  if (message.type === 'configure') {
    void configure(message).catch(fail);
    return;
  }
  if (message.type === 'exit') {
    if (run) release(run);
    process.exit(0);
  }
  const current = run;
  if (!current) throw new Error(`'${message.type}' before 'configure'`);
  switch (message.type) {
    case 'start':
      current.running = true;
      current.callers = Array.from({ length: current.setup.callers }, (_, callerIndex) => callerLoop(current, callerIndex));
      return;
    case 'downstreamDied':
      current.countsAtDeath = current.counter.counts();
      return;
    case 'downstreamHealed':
      current.countsAtHeal = current.counter.counts();
      return;
    case 'phase':
      enterPhase(current, message.name);
      return;
    case 'stop':
      void stop(current).catch(fail);
      return;
    case 'countFailures':
      void countFailures(current, message.spec, message.callsPerCaller).catch(fail);
      return;
  }
}

function fail(error: unknown): void {
  send({ type: 'failed', workerIndex: run?.workerIndex ?? -1, message: error instanceof Error ? error.stack ?? error.message : String(error) });
}

process.on('message', (message: ToWorker) => {
  try {
    handle(message);
  } catch (error) {
    fail(error);
  }
});
// An orphaned worker (the bench died) must not keep running.
process.on('disconnect', () => process.exit(1));
