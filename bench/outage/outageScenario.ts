/**
 * Outage and recovery, with several OS processes calling at once through their own guards:
 *
 *   healthy ──(downstream dies at T_death)──> outage ──(heals at T_heal)──> recovery ──(state item CLOSED)──> stop
 *
 * then a count check with the downstream dead. What is measured, and where:
 * - calls that reached the dead downstream: requests arriving at the downstream meter in [T_death, T_heal).
 * - time until every process rejects: max over workers of (first CircuitOpenError) - T_death.
 * - DynamoDB requests during the outage: each worker's SDK counter between the died and healed messages (Redis
 *   commands, counted at the client, for a breaker on Redis).
 * - store latency per operation (with `timeStore`): each store call of the workers' guards, from its start to its
 *   settlement, over the whole run (healthy, outage, recovery; not the count check).
 * - trials in flight: the downstream meter's [start, end) of every request whose call the guard admitted as
 *   HALF_OPEN, overlapped across all processes (one clock: the meter's).
 * - lost counts: see countCheck below.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { RunningUserDirectoryStub } from '../../local/userDirectoryStub';
import { epochNow } from '../clock';
import type { RunningDownstreamMeter } from '../downstreamMeter';
import { maxOverlap } from '../inFlight';
import type { RedisCommandClient } from '../../src/breaker';
import type { LatencySummary } from '../percentiles';
import { addCounts, totalOf, type RequestCounts } from '../requestCounter';
import { mergeSamples, summarizeSamples, type StoreOperation, type StoreSamples } from '../timedStore';
import { createGuard, VARIANT_LABELS, type GuardHooks, type StoreKind, type VariantKind, type VariantSpec } from '../variants';
import type { WorkerPool } from './workerPool';

export interface OutageSettings {
  processes: number;
  callersPerProcess: number;
  thinkMs: number;
  /** Healthy traffic before the downstream dies. */
  warmMs: number;
  /** The outage lasts at least this long, and until every process has rejected (bounded by maxWaitForRejectMs). */
  outageMs: number;
  maxWaitForRejectMs: number;
  /** Bound on the wait for the state item to read CLOSED after the heal. */
  maxWaitForCloseMs: number;
  /** Traffic after the close, before stopping. */
  settleMs: number;
  /** The healthy downstream's answer time (the stub's slow mode): gives trials a duration, so overlaps can show. */
  healthyDelayMs: number;
  countCallsPerCaller: number;
  statePollMs: number;
}

export interface LostCountCheck {
  /** Failures the callers saw (each one the guard had to record). */
  observedFailures: number;
  /** The failure count in the state item afterwards. */
  storedFailures: number;
  lost: number;
  dynamoRequests: RequestCounts;
}

export interface OutageResult {
  variant: VariantKind;
  label: string;
  /** Where this breaker's state lived; absent for (a) and (b). */
  store?: StoreKind;
  /** With `timeStore`: each store operation's duration, ms, by operation (only operations that ran). */
  storeLatencyMs?: Partial<Record<StoreOperation, LatencySummary>>;
  processes: number;
  callersPerProcess: number;
  calls: number;
  outageMs: number;
  downstreamCallsAfterDeath: number;
  /** null when some process never rejected (always, without a breaker). */
  timeUntilAllRejectMs: number | null;
  processesThatRejected: number;
  dynamoRequestsDuringOutage: number;
  dynamoRequestsDuringOutageByOperation: RequestCounts;
  lostCount: LostCountCheck | null;
  recovery: {
    trialCalls: number;
    unattributedTrials: number;
    /** Most trial calls at the downstream at once, over the whole run (outage probes and recovery). */
    maxTrialsInFlight: number;
    halfOpenMaxCalls: number | null;
    /** From the heal until the state item reads CLOSED; null without a breaker or if it never closed in time. */
    timeUntilClosedMs: number | null;
  };
}

export interface OutageContext {
  pool: WorkerPool;
  stub: RunningUserDirectoryStub;
  meter: RunningDownstreamMeter;
  dynamoEndpoint: string;
  /** A client for the parent's own state reads (not counted). */
  client: DynamoDBClient;
  tableName: string;
  /** The Redis server for breaker specs with `store: 'redis'`: its URL for the workers, a client for the parent's reads. */
  redis?: { url: string; client: RedisCommandClient };
  /** Time the workers' store operations (OutageResult.storeLatencyMs). */
  timeStore?: boolean;
}

const onRedis = (spec: VariantSpec): boolean => spec.kind === 'breaker' && spec.store === 'redis';

function requireRedis(context: OutageContext): NonNullable<OutageContext['redis']> {
  if (!context.redis) throw new Error("a breaker spec with store 'redis' needs OutageContext.redis");
  return context.redis;
}

/** The guard hooks for the parent's own reads of `spec`'s circuit. */
const redisOf = (context: OutageContext, spec: VariantSpec): GuardHooks => (onRedis(spec) ? { redis: requireRedis(context).client } : {});

const IPC_TIMEOUT_MS = 30_000;

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function runOutage(
  context: OutageContext,
  spec: VariantSpec,
  countSpec: VariantSpec,
  settings: OutageSettings,
): Promise<OutageResult> {
  const { pool, stub, meter } = context;
  const healthy = { kind: 'slow', delayMs: settings.healthyDelayMs } as const;
  stub.setMode(healthy);
  meter.clearLog();

  const ready = pool.collect('ready', IPC_TIMEOUT_MS);
  for (let index = 0; index < pool.size; index += 1) {
    pool.send(index, {
      type: 'configure',
      workerIndex: index,
      spec,
      setup: {
        dynamoEndpoint: context.dynamoEndpoint,
        tableName: context.tableName,
        downstreamUrl: meter.url,
        callers: settings.callersPerProcess,
        thinkMs: settings.thinkMs,
        maxRunMs: settings.warmMs + settings.maxWaitForRejectMs + settings.maxWaitForCloseMs + settings.settleMs + 10_000,
        ...(onRedis(spec) || onRedis(countSpec) ? { redisUrl: requireRedis(context).url } : {}),
        ...(context.timeStore ? { timeStore: true } : {}),
      },
    });
  }
  await ready;

  const firstRejections = new Map<number, number>();
  let allRejected: () => void = () => undefined;
  const everyProcessRejected = new Promise<void>((resolve) => (allRejected = resolve));
  const unsubscribe = pool.on((message) => {
    if (message.type !== 'firstRejection') return;
    firstRejections.set(message.workerIndex, message.at);
    if (firstRejections.size === pool.size) allRejected();
  });

  try {
    pool.broadcast({ type: 'start' });
    await wait(settings.warmMs);

    const diedAt = epochNow();
    stub.setMode({ kind: 'down' });
    pool.broadcast({ type: 'downstreamDied', at: diedAt });
    await wait(settings.outageMs);
    if (spec.kind !== 'none') {
      await Promise.race([everyProcessRejected, wait(Math.max(0, settings.maxWaitForRejectMs - settings.outageMs))]);
    }

    const healedAt = epochNow();
    stub.setMode(healthy);
    pool.broadcast({ type: 'downstreamHealed', at: healedAt });
    const closedAt = spec.kind === 'none' ? null : await waitUntilClosed(context, spec, settings);
    await wait(settings.settleMs);

    const reportsArrived = pool.collect('report', IPC_TIMEOUT_MS);
    pool.broadcast({ type: 'stop' });
    const reports = (await reportsArrived).map((message) => message.report);

    const outageCounts = addCounts(...reports.map((report) => report.dynamoDuringOutage));
    const trialIds = new Set(reports.flatMap((report) => report.trialCallIds));
    const trialIntervals = meter.log().filter((request) => request.callId !== undefined && trialIds.has(request.callId));
    const rejectionTimes = [...firstRejections.values()];

    const lostCount = spec.kind === 'none' ? null : await countCheck(context, countSpec, settings);
    const samples: StoreSamples = {};
    for (const report of reports) if (report.storeSamplesMs) mergeSamples(samples, report.storeSamplesMs);
    const storeLatencyMs = summarizeSamples(samples);

    return {
      variant: spec.kind,
      label: VARIANT_LABELS[spec.kind],
      ...(spec.kind === 'breaker' ? { store: spec.store ?? 'dynamodb' } : {}),
      ...(context.timeStore ? { storeLatencyMs } : {}),
      processes: pool.size,
      callersPerProcess: settings.callersPerProcess,
      calls: reports.reduce((sum, report) => sum + report.calls, 0),
      outageMs: healedAt - diedAt,
      downstreamCallsAfterDeath: meter.requestsSince(diedAt) - meter.requestsSince(healedAt),
      timeUntilAllRejectMs: rejectionTimes.length === pool.size ? Math.max(...rejectionTimes) - diedAt : null,
      processesThatRejected: rejectionTimes.length,
      dynamoRequestsDuringOutage: totalOf(outageCounts),
      dynamoRequestsDuringOutageByOperation: outageCounts,
      lostCount,
      recovery: {
        trialCalls: trialIds.size,
        unattributedTrials: reports.reduce((sum, report) => sum + report.unattributedTrials, 0),
        maxTrialsInFlight: maxOverlap(trialIntervals),
        halfOpenMaxCalls: spec.kind === 'breaker' ? (spec.settings.halfOpenMaxCalls ?? null) : null,
        timeUntilClosedMs: closedAt === null ? null : closedAt - healedAt,
      },
    };
  } finally {
    unsubscribe();
  }
}

/** Polls the state item until it reads CLOSED; returns when it first did (epochNow), or null if it never did in time. */
async function waitUntilClosed(context: OutageContext, spec: VariantSpec, settings: OutageSettings): Promise<number | null> {
  const reader = createGuard(spec, context.client, context.tableName, redisOf(context, spec));
  const deadline = epochNow() + settings.maxWaitForCloseMs;
  try {
    while (epochNow() < deadline) {
      const state = await reader.readState();
      if (state?.state === 'CLOSED') return epochNow();
      await wait(settings.statePollMs);
    }
    return null;
  } finally {
    reader.dispose();
  }
}

/**
 * The lost-count check. Every caller in every process makes a fixed number of calls to the dead downstream
 * through a guard on a fresh circuit whose failure threshold is out of reach and whose window outlasts the check.
 * Then the state item must hold exactly the failures the callers observed.
 *
 * Why out of reach: with a reachable threshold, a correct breaker legitimately stops counting once the circuit has
 * opened (failures of calls admitted before the open land on an open circuit, and opening may clear the window),
 * so "stored < observed" would not tell a lost update from the opening semantics. With the circuit held closed,
 * every failure must be recorded and nothing may clear it: any difference is a lost update.
 */
async function countCheck(context: OutageContext, countSpec: VariantSpec, settings: OutageSettings): Promise<LostCountCheck> {
  context.stub.setMode({ kind: 'down' });
  const answers = context.pool.collect('countReport', IPC_TIMEOUT_MS);
  context.pool.broadcast({ type: 'countFailures', spec: countSpec, callsPerCaller: settings.countCallsPerCaller });
  const reports = (await answers).map((message) => message.report);
  const reader = createGuard(countSpec, context.client, context.tableName, redisOf(context, countSpec));
  try {
    const stored = await reader.readState();
    const observedFailures = reports.reduce((sum, report) => sum + report.observedFailures, 0);
    const storedFailures = stored?.failures ?? 0;
    const unexpected = reports.reduce((sum, report) => sum + report.rejections + report.otherErrors, 0);
    if (unexpected > 0) throw new Error(`count check: ${unexpected} calls were rejected or succeeded; the check needs every call to fail`);
    return {
      observedFailures,
      storedFailures,
      lost: observedFailures - storedFailures,
      dynamoRequests: addCounts(...reports.map((report) => report.dynamoRequests)),
    };
  } finally {
    reader.dispose();
  }
}
