/**
 * Healthy path: what each variant costs per call while the downstream answers. One caller calls in sequence so
 * nothing else competes for the CPU; each call's added time is its total time minus the time spent inside the
 * protected function, so the downstream's own jitter does not blur the breaker's cost.
 */
import { performance } from 'node:perf_hooks';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { fetchUser } from './downstreamCall';
import { summarize, type LatencySummary } from './percentiles';
import { totalOf, type RequestCounter, type RequestCounts } from './requestCounter';
import { createGuard, VARIANT_LABELS, type BreakerSettings, type Guard, type VariantKind, type VariantSpec } from './variants';

export interface HealthyPathSettings {
  calls: number;
  warmupCalls: number;
  stateCacheMs: readonly number[];
}

export interface HealthyPathResult {
  variant: VariantKind;
  label: string;
  stateCacheMs?: number;
  calls: number;
  dynamoRequestsPerCall: number;
  dynamoRequestsByOperation: RequestCounts;
  /** Whole call as the caller sees it. */
  callMs: LatencySummary;
  /** Whole call minus time inside the protected function: what the variant adds. */
  addedMs: LatencySummary;
}

export interface HealthyPathContext {
  client: DynamoDBClient;
  counter: RequestCounter;
  tableName: string;
  directoryUrl: string;
  breakerSettings: BreakerSettings;
  naive: { failureThreshold: number; openMs: number };
}

export async function measureHealthyPath(context: HealthyPathContext, settings: HealthyPathSettings): Promise<HealthyPathResult[]> {
  const runs: Array<{ spec: VariantSpec; stateCacheMs?: number }> = [
    { spec: { kind: 'none' } },
    { spec: { kind: 'naive', circuit: 'healthy-naive', ...context.naive } },
    ...settings.stateCacheMs.map((stateCacheMs) => ({
      stateCacheMs,
      spec: { kind: 'breaker', circuit: `healthy-breaker-${stateCacheMs}`, settings: { ...context.breakerSettings, stateCacheMs } } as VariantSpec,
    })),
  ];
  const results: HealthyPathResult[] = [];
  for (const { spec, stateCacheMs } of runs) {
    const guard = createGuard(spec, context.client, context.tableName);
    try {
      results.push({
        variant: spec.kind,
        label: VARIANT_LABELS[spec.kind] + (stateCacheMs === undefined ? '' : `, stateCacheMs ${stateCacheMs}`),
        ...(stateCacheMs === undefined ? {} : { stateCacheMs }),
        ...(await measureCalls(guard, context.counter, context.directoryUrl, settings)),
      });
    } finally {
      guard.dispose();
    }
  }
  return results;
}

export type CallFigures = Pick<HealthyPathResult, 'calls' | 'dynamoRequestsPerCall' | 'dynamoRequestsByOperation' | 'callMs' | 'addedMs'>;

/**
 * One caller's sequential calls through `guard` to a healthy directory, after `warmupCalls` uncounted ones: the
 * requests `counter` saw per call and the time each call took and added.
 */
export async function measureCalls(
  guard: Guard,
  counter: RequestCounter,
  directoryUrl: string,
  settings: Pick<HealthyPathSettings, 'calls' | 'warmupCalls'>,
  afterWarmUp: () => void = () => undefined,
): Promise<CallFigures> {
  for (let i = 0; i < settings.warmupCalls; i += 1) await guard.call((signal) => fetchUser(directoryUrl, 'demo-1', signal));
  counter.reset();
  afterWarmUp();
  const callMs: number[] = [];
  const addedMs: number[] = [];
  for (let i = 0; i < settings.calls; i += 1) {
    let insideMs = 0;
    const start = performance.now();
    await guard.call(async (signal) => {
      const insideStart = performance.now();
      try {
        return await fetchUser(directoryUrl, 'demo-1', signal);
      } finally {
        insideMs = performance.now() - insideStart;
      }
    });
    const totalMs = performance.now() - start;
    callMs.push(totalMs);
    addedMs.push(Math.max(0, totalMs - insideMs));
  }
  const counts = counter.counts();
  return {
    calls: settings.calls,
    dynamoRequestsPerCall: totalOf(counts) / settings.calls,
    dynamoRequestsByOperation: counts,
    callMs: summarize(callMs),
    addedMs: summarize(addedMs),
  };
}
