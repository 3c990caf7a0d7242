/**
 * The noise scenario (issue 14): one-at-a-time callers, each its own breaker instance, in several OS processes on
 * one dynalite, calling a directory that answers 200 in ~20 ms but fails a random 1% of calls (the downstream meter
 * answers those 503). What each opening rule makes of that healthy traffic: calls, rejected calls, opens, and DynamoDB
 * requests per call (counted at the SDK clients).
 *
 * Then recovery: the directory dies until the item reads OPEN, heals, and from the moment the item reads CLOSED the
 * admitted fraction of calls is binned over time (the ramp-up table).
 */
import os from 'node:os';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { RunningUserDirectoryStub } from '../../local/userDirectoryStub';
import { epochNow } from '../clock';
import type { RunningDownstreamMeter } from '../downstreamMeter';
import { availabilityOf } from '../optionSupport';
import type { WorkerReport } from '../outage/protocol';
import type { WorkerPool } from '../outage/workerPool';
import { addCounts, totalOf, type RequestCounts } from '../requestCounter';
import { pollState } from '../statePoller';
import type { BreakerSettings } from '../variants';
import { admittedOverTime, type AdmittedBin } from './admittedFraction';
import type { NoiseVariant } from './noiseVariants';

export interface NoiseSettings {
  processes: number;
  instancesPerProcess: number;
  /** Pause between one caller's calls, ms. */
  thinkMs: number;
  /** A caller starts a call at most every paceMs (rejections return at once; this keeps the offered load steady). */
  paceMs: number;
  healthyDelayMs: number;
  /** The fraction of calls the directory fails at random (0.01). */
  failFraction: number;
  /** How long the noisy healthy traffic runs per variant. */
  noiseMs: number;
  ramp: {
    /** Healthy traffic before the directory dies. */
    healthyMs: number;
    /** Bound on the wait for the item to read OPEN after the death. */
    maxWaitForOpenMs: number;
    maxWaitForCloseMs: number;
    /** How long after the close calls are binned. */
    observeMs: number;
    binMs: number;
  };
  statePollMs: number;
}

interface Base {
  id: string;
  label: string;
  options: Readonly<Record<string, unknown>>;
  available: boolean;
  unavailableReason?: string;
  instances: number;
}

export interface NoiseVariantResult extends Base {
  calls: number;
  rejected: number;
  rejectedByState: Record<string, number>;
  /** Failures the callers saw (the directory's random 503s and anything else). */
  failures: number;
  opens: number;
  downstreamCalls: number;
  injectedFailures: number;
  storeRequests: RequestCounts;
  storeRequestsPerCall: number | null;
  /** os.loadavg()[0] when the variant started and ended: the figures depend on how busy the machine was. */
  loadAverage?: { atStart: number; atEnd: number };
}

export interface RampResult extends Base {
  /** From the heal until the item read CLOSED; null if it did not (then bins is empty). */
  closedAfterHealMs: number | null;
  bins: AdmittedBin[];
}

export interface NoiseContext {
  pool: WorkerPool;
  stub: RunningUserDirectoryStub;
  meter: RunningDownstreamMeter;
  dynamoEndpoint: string;
  /** The parent's client (state polls). */
  client: DynamoDBClient;
  tableName: string;
}

const IPC_TIMEOUT_MS = 30_000;
const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function configure(context: NoiseContext, variant: NoiseVariant, settings: NoiseSettings, circuit: string, maxRunMs: number, callLog: boolean): Promise<void> {
  const ready = context.pool.collect('ready', IPC_TIMEOUT_MS);
  for (let index = 0; index < context.pool.size; index += 1) {
    context.pool.send(index, {
      type: 'configure',
      workerIndex: index,
      spec: { kind: 'breaker', circuit, settings: variant.options as BreakerSettings },
      setup: {
        dynamoEndpoint: context.dynamoEndpoint,
        tableName: context.tableName,
        downstreamUrl: context.meter.url,
        callers: settings.instancesPerProcess,
        thinkMs: settings.thinkMs,
        paceMs: settings.paceMs,
        instancePerCaller: true,
        callLog,
        maxRunMs,
      },
    });
  }
  await ready;
}

async function stopAndCollect(pool: WorkerPool): Promise<WorkerReport[]> {
  const arrived = pool.collect('report', IPC_TIMEOUT_MS);
  pool.broadcast({ type: 'stop' });
  return (await arrived).map((message) => message.report);
}

function base(variant: NoiseVariant, settings: NoiseSettings): Omit<Base, 'available'> {
  return { id: variant.id, label: variant.label, options: variant.options, instances: settings.processes * settings.instancesPerProcess };
}

export async function runNoise(context: NoiseContext, variant: NoiseVariant, settings: NoiseSettings, circuit: string): Promise<NoiseVariantResult> {
  const availability = availabilityOf(variant.options);
  if (!availability.available) {
    return {
      ...base(variant, settings),
      available: false,
      unavailableReason: availability.reason,
      calls: 0,
      rejected: 0,
      rejectedByState: {},
      failures: 0,
      opens: 0,
      downstreamCalls: 0,
      injectedFailures: 0,
      storeRequests: {},
      storeRequestsPerCall: null,
    };
  }
  const { pool, stub, meter } = context;
  const loadAtStart = os.loadavg()[0];
  stub.setMode({ kind: 'slow', delayMs: settings.healthyDelayMs });
  meter.clearLog();
  await configure(context, variant, settings, circuit, settings.noiseMs + 10_000, false);
  let reports: WorkerReport[];
  meter.setFailFraction(settings.failFraction);
  try {
    pool.broadcast({ type: 'phase', name: 'noise', at: epochNow() });
    pool.broadcast({ type: 'start' });
    await wait(settings.noiseMs);
    reports = await stopAndCollect(pool);
  } finally {
    meter.setFailFraction(0);
  }
  const calls = sum(reports.map((r) => r.calls));
  const storeRequests = addCounts(...reports.map((r) => r.dynamoTotal));
  const phases = reports.map((r) => r.phases.noise).filter((p) => p !== undefined);
  return {
    ...base(variant, settings),
    available: true,
    calls,
    rejected: sum(reports.map((r) => r.rejections)),
    rejectedByState: addCounts(...phases.map((p) => p.rejectionsByState)),
    failures: sum(reports.map((r) => r.failures)),
    opens: sum(phases.map((p) => p.opens)),
    downstreamCalls: meter.requests(),
    injectedFailures: meter.injectedFailures(),
    storeRequests,
    storeRequestsPerCall: calls === 0 ? null : totalOf(storeRequests) / calls,
    loadAverage: { atStart: loadAtStart, atEnd: os.loadavg()[0] },
  };
}

export async function runRamp(context: NoiseContext, variant: NoiseVariant, settings: NoiseSettings, circuit: string): Promise<RampResult> {
  const availability = availabilityOf(variant.options);
  if (!availability.available) return { ...base(variant, settings), available: false, unavailableReason: availability.reason, closedAfterHealMs: null, bins: [] };
  const { pool, stub, meter } = context;
  const { ramp } = settings;
  const healthy = { kind: 'slow', delayMs: settings.healthyDelayMs } as const;
  stub.setMode(healthy);
  meter.clearLog();
  await configure(context, variant, settings, circuit, ramp.healthyMs + ramp.maxWaitForOpenMs + ramp.maxWaitForCloseMs + ramp.observeMs + 10_000, true);
  const poller = pollState(context.client, context.tableName, circuit, settings.statePollMs);
  let reports: WorkerReport[];
  let healedAt: number;
  let closedAt: number | null;
  try {
    pool.broadcast({ type: 'start' });
    await wait(ramp.healthyMs);
    stub.setMode({ kind: 'down' });
    const diedAt = epochNow();
    await poller.waitFor(['OPEN'], diedAt, ramp.maxWaitForOpenMs);
    stub.setMode(healthy);
    healedAt = epochNow();
    closedAt = await poller.waitFor(['CLOSED'], healedAt, ramp.maxWaitForCloseMs);
    if (closedAt !== null) await wait(Math.max(0, closedAt + ramp.observeMs - epochNow()));
    reports = await stopAndCollect(pool);
  } finally {
    stub.setMode(healthy);
    await poller.stop();
  }
  const calls = reports.flatMap((r) => r.callLog ?? []);
  return {
    ...base(variant, settings),
    available: true,
    closedAfterHealMs: closedAt === null ? null : Math.round(closedAt - healedAt),
    bins: closedAt === null ? [] : admittedOverTime(calls, closedAt, ramp.observeMs, ramp.binMs),
  };
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
