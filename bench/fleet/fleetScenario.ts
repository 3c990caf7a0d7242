/**
 * The fleet scenario (issue 11): many breaker instances, one per one-at-a-time caller, in several OS processes, all on
 * one state item, behind a proxy that enforces DynamoDB's per-item throughput scaled to the fleet:
 *
 *   healthy ──> directoryDead ──> healed (until the item reads CLOSED, then a little more) ──> tableUnreachable
 *
 * In the last phase the directory is dead again and the proxy destroys every connection: the breaker cannot reach its
 * table at all. What is measured, per phase:
 * - DynamoDB requests, throttled and dropped, by operation: at the proxy (what DynamoDB would see and bill),
 *   and the requests the SDK clients sent (counted in the workers; more at the proxy than sent would mean SDK retries).
 * - calls that reached the directory (at the downstream meter), and the most by any one instance.
 * - most trial calls at the directory at once (trials matched to the meter's [start, end) by call id).
 * - opens (stateChange to OPEN, emitted only by the instance whose write applied it), rejections by state, store
 *   errors by cause.
 * Once per run: time from the directory's death until the item first reads OPEN, and from the heal until it reads
 * CLOSED (a poller on the parent's own client, straight to dynalite).
 */
import os from 'node:os';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { RunningUserDirectoryStub } from '../../local/userDirectoryStub';
import { epochNow } from '../clock';
import type { RunningDownstreamMeter } from '../downstreamMeter';
import { maxOverlap } from '../inFlight';
import { availabilityOf } from '../optionSupport';
import type { WorkerPool } from '../outage/workerPool';
import type { PhaseStats, WorkerReport } from '../outage/protocol';
import { addCounts, totalOf, type RequestCounts } from '../requestCounter';
import { pollState } from '../statePoller';
import { diffProxyCounts, totalProxyCounts, type ProxyCounts, type RunningThrottlingProxy } from '../throttlingProxy';
import type { BreakerSettings } from '../variants';
import type { FleetVariant } from './fleetVariants';

export interface FleetSettings {
  processes: number;
  instancesPerProcess: number;
  /** Pause between one caller's calls, ms. */
  thinkMs: number;
  /** A caller starts a call at most every paceMs (rejections return at once; this keeps the offered load steady). */
  paceMs: number;
  /** The healthy directory's answer time, ms. */
  healthyDelayMs: number;
  /**
   * The first moments, counted apart from `healthy`: every instance starts (and reads the item for the first time)
   * at once, a burst a real fleet, whose containers start over minutes, does not make (issue 11).
   */
  coldStartMs: number;
  healthyMs: number;
  deadMs: number;
  /** Bound on the wait for the item to read CLOSED after the heal. */
  maxWaitForCloseMs: number;
  /** Healthy traffic after the close, before the table becomes unreachable. */
  healedSettleMs: number;
  unreachableMs: number;
  statePollMs: number;
  /** The real fleet the scaled limits stand for, and one item's limits there (DynamoDB: 3,000 RCU, 1,000 WCU). */
  model: { containers: number; readUnitsPerSecond: number; writeUnitsPerSecond: number };
}

export const FLEET_PHASES = ['coldStart', 'healthy', 'directoryDead', 'healed', 'tableUnreachable'] as const;
export type FleetPhaseName = (typeof FLEET_PHASES)[number];

export interface FleetPhaseResult {
  phase: FleetPhaseName;
  durationMs: number;
  calls: number;
  rejections: number;
  rejectionsByState: Record<string, number>;
  /** At the proxy, by operation. */
  dynamo: ProxyCounts;
  /** Sent by the SDK clients, by operation. */
  sdkRequests: RequestCounts;
  downstreamCalls: number;
  maxDownstreamCallsPerInstance: number;
  maxTrialsInFlight: number;
  /**
   * stateChange events to OPEN (only the instance whose write applied a transition emits it; a write that was applied
   * but answered after storeTimeoutMs emits none, so on a slow machine this undercounts).
   */
  opens: number;
  /** Times the polled item changed to OPEN in the phase (robust to the above; an OPEN shorter than a poll is missed). */
  itemOpens: number;
  storeErrorsByCause: Record<string, number>;
}

export interface FleetVariantResult {
  id: string;
  label: string;
  options: Readonly<Record<string, unknown>>;
  available: boolean;
  /** Why it did not run (the breaker's own BreakerConfigError message). */
  unavailableReason?: string;
  instances: number;
  processes: number;
  limits: { readUnitsPerSecond: number; writeUnitsPerSecond: number };
  phases: FleetPhaseResult[];
  /** From the directory's death until the item first read OPEN; null if it never did in the phase. */
  timeToOpenMs: number | null;
  /** The item's state when the directory healed (as last polled): CLOSED or ABSENT means it never opened. */
  stateAtHeal: string;
  /** From the heal until the item read CLOSED; null if it was not open at the heal or did not close within maxWaitForCloseMs. */
  timeToCloseMs: number | null;
  /** os.loadavg()[0] when the variant started and ended: the figures depend on how busy the machine was. */
  loadAverage: { atStart: number; atEnd: number };
  /** Requests at the proxy over the whole run vs requests the SDK clients sent: equal when nothing is retried by the SDK. */
  proxyRequests: number;
  sdkRequests: number;
}

export interface FleetContext {
  pool: WorkerPool;
  stub: RunningUserDirectoryStub;
  meter: RunningDownstreamMeter;
  proxy: RunningThrottlingProxy;
  /** The parent's client straight to dynalite (state polls; not through the proxy). */
  client: DynamoDBClient;
  tableName: string;
}

const IPC_TIMEOUT_MS = 30_000;
const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The per-item limits for this fleet: the model's limits times instances / containers (64 of 10,000: 19.2 and 6.4). */
export function scaledLimits(settings: FleetSettings): { readUnitsPerSecond: number; writeUnitsPerSecond: number } {
  const share = (settings.processes * settings.instancesPerProcess) / settings.model.containers;
  return { readUnitsPerSecond: settings.model.readUnitsPerSecond * share, writeUnitsPerSecond: settings.model.writeUnitsPerSecond * share };
}

export async function runFleet(context: FleetContext, variant: FleetVariant, settings: FleetSettings, circuit: string): Promise<FleetVariantResult> {
  const instances = settings.processes * settings.instancesPerProcess;
  const limits = scaledLimits(settings);
  const base = { id: variant.id, label: variant.label, options: variant.options, instances, processes: settings.processes, limits };
  const availability = availabilityOf(variant.options);
  if (!availability.available) {
    return { ...base, available: false, unavailableReason: availability.reason, phases: [], loadAverage: { atStart: 0, atEnd: 0 }, timeToOpenMs: null, stateAtHeal: 'n/a', timeToCloseMs: null, proxyRequests: 0, sdkRequests: 0 };
  }

  const { pool, stub, meter, proxy } = context;
  const loadAtStart = os.loadavg()[0];
  const healthy = { kind: 'slow', delayMs: settings.healthyDelayMs } as const;
  stub.setMode(healthy);
  meter.clearLog();
  proxy.setReachable(true);
  proxy.setLimits(limits);
  proxy.resetCounts();

  const ready = pool.collect('ready', IPC_TIMEOUT_MS);
  for (let index = 0; index < pool.size; index += 1) {
    pool.send(index, {
      type: 'configure',
      workerIndex: index,
      spec: { kind: 'breaker', circuit, settings: variant.options as BreakerSettings },
      setup: {
        dynamoEndpoint: proxy.endpoint,
        tableName: context.tableName,
        downstreamUrl: meter.url,
        callers: settings.instancesPerProcess,
        thinkMs: settings.thinkMs,
        paceMs: settings.paceMs,
        instancePerCaller: true,
        maxRunMs: settings.coldStartMs + settings.healthyMs + settings.deadMs + settings.maxWaitForCloseMs + settings.healedSettleMs + settings.unreachableMs + 10_000,
      },
    });
  }
  await ready;

  const poller = pollState(context.client, context.tableName, circuit, settings.statePollMs);
  const boundaries: Array<{ phase: FleetPhaseName; at: number; proxy: ProxyCounts }> = [];
  const enter = (phase: FleetPhaseName): number => {
    const at = epochNow();
    boundaries.push({ phase, at, proxy: proxy.counts() });
    pool.broadcast({ type: 'phase', name: phase, at });
    return at;
  };

  let reports: WorkerReport[];
  let diedAt: number;
  let healedAt: number;
  let closedAt: number | null;
  let endedAt: number;
  let endCounts: ProxyCounts;
  try {
    enter('coldStart');
    pool.broadcast({ type: 'start' });
    await wait(settings.coldStartMs);
    enter('healthy');
    await wait(settings.healthyMs);

    stub.setMode({ kind: 'down' });
    diedAt = enter('directoryDead');
    await wait(settings.deadMs);

    stub.setMode(healthy);
    healedAt = enter('healed');
    closedAt = await poller.waitFor(['CLOSED'], healedAt, settings.maxWaitForCloseMs);
    await wait(settings.healedSettleMs);

    proxy.setReachable(false);
    stub.setMode({ kind: 'down' });
    enter('tableUnreachable');
    await wait(settings.unreachableMs);

    const reportsArrived = pool.collect('report', IPC_TIMEOUT_MS);
    pool.broadcast({ type: 'stop' });
    reports = (await reportsArrived).map((message) => message.report);
    endedAt = epochNow();
    endCounts = proxy.counts();
  } finally {
    proxy.setReachable(true);
    stub.setMode(healthy);
    await poller.stop();
  }

  const openedAt = firstOpen(poller.timeline(), diedAt, healedAt);
  const stateAtHeal = [...poller.timeline()].reverse().find((change) => change.at <= healedAt)?.state ?? 'ABSENT';
  const wasOpen = stateAtHeal !== 'CLOSED' && stateAtHeal !== 'ABSENT';
  const trialIds = new Set(reports.flatMap((report) => report.trialCallIds));
  const log = meter.log();
  const phases = boundaries.map((boundary, index): FleetPhaseResult => {
    const next = boundaries[index + 1];
    const end = next?.at ?? endedAt;
    const stats = reports.map((report) => report.phases[boundary.phase]).filter((s): s is PhaseStats => s !== undefined);
    const inPhase = log.filter((request) => request.start >= boundary.at && request.start < end);
    const perInstance = new Map<string, number>();
    for (const request of inPhase) {
      const instance = request.callId?.split('-')[0];
      if (instance !== undefined) perInstance.set(instance, (perInstance.get(instance) ?? 0) + 1);
    }
    return {
      phase: boundary.phase,
      durationMs: Math.round(end - boundary.at),
      calls: sum(stats.map((s) => s.calls)),
      rejections: sum(stats.map((s) => s.rejections)),
      rejectionsByState: addCounts(...stats.map((s) => s.rejectionsByState)),
      dynamo: diffProxyCounts(next?.proxy ?? endCounts, boundary.proxy),
      sdkRequests: addCounts(...stats.map((s) => s.dynamo)),
      downstreamCalls: meter.requestsSince(boundary.at) - meter.requestsSince(end),
      maxDownstreamCallsPerInstance: Math.max(0, ...perInstance.values()),
      maxTrialsInFlight: maxOverlap(inPhase.filter((request) => request.callId !== undefined && trialIds.has(request.callId))),
      opens: sum(stats.map((s) => s.opens)),
      itemOpens: poller.timeline().filter((change) => change.state === 'OPEN' && change.at >= boundary.at && change.at < end).length,
      storeErrorsByCause: addCounts(...stats.map((s) => s.storeErrorsByCause)),
    };
  });

  return {
    ...base,
    available: true,
    phases,
    loadAverage: { atStart: loadAtStart, atEnd: os.loadavg()[0] },
    timeToOpenMs: openedAt === null ? null : Math.round(openedAt - diedAt),
    stateAtHeal,
    timeToCloseMs: closedAt === null || !wasOpen ? null : Math.round(closedAt - healedAt),
    proxyRequests: totalProxyCounts(endCounts).requests,
    sdkRequests: sum(reports.map((report) => totalOf(report.dynamoTotal))),
  };
}

function firstOpen(timeline: ReturnType<ReturnType<typeof pollState>['timeline']>, from: number, to: number): number | null {
  const change = timeline.find((entry) => entry.at >= from && entry.at < to && entry.state !== 'CLOSED' && entry.state !== 'ABSENT');
  return change ? change.at : null;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
