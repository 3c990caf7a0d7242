/** What the bench runs: the full run (a few minutes at most on 2 cores) and the smoke run (seconds, for tests). */
import type { FleetSettings } from './fleet/fleetScenario';
import type { HealthyPathSettings } from './healthyPath';
import type { NoiseSettings } from './noise/noiseScenario';
import type { OutageSettings } from './outage/outageScenario';
import type { BreakerSettings } from './variants';

export interface BenchSettings {
  mode: 'full' | 'smoke';
  healthy: HealthyPathSettings;
  outage: OutageSettings;
  /** This project's breaker in every scenario (stateCacheMs is varied on the healthy path). */
  breaker: BreakerSettings;
  /** The naive breaker, with the same threshold and open period. */
  naive: { failureThreshold: number; openMs: number };
  /** The breaker for the lost-count check: threshold out of reach, window longer than the check. */
  countCheckBreaker: BreakerSettings;
  lambdaLoadRuns: number;
}

const breaker: BreakerSettings = {
  failureThreshold: 5,
  windowMs: 10_000,
  timeoutMs: 2_000,
  slowCallMs: 1_000,
  // Short, so recovery happens within the run.
  openMs: 400,
  maxOpenMs: 3_200,
  backoffMultiplier: 2,
  // Two permits, so the half-open limit is something the bench can see being held (one permit is trivially serial).
  halfOpenMaxCalls: 2,
  halfOpenSuccessThreshold: 2,
  stateCacheMs: 100,
  // Generous: dynalite on two busy cores is slower than DynamoDB; a store timeout would skip a count on purpose.
  storeTimeoutMs: 2_000,
};

const countCheckBreaker: BreakerSettings = { ...breaker, failureThreshold: 1_000_000, windowMs: 600_000, stateCacheMs: 0 };

export const FULL: BenchSettings = {
  mode: 'full',
  healthy: { calls: 2_000, warmupCalls: 200, stateCacheMs: [0, 100, 1_000] },
  outage: {
    processes: 4,
    callersPerProcess: 4,
    thinkMs: 5,
    warmMs: 1_000,
    outageMs: 3_000,
    maxWaitForRejectMs: 10_000,
    maxWaitForCloseMs: 15_000,
    settleMs: 500,
    healthyDelayMs: 20,
    countCallsPerCaller: 25,
    statePollMs: 10,
  },
  breaker,
  naive: { failureThreshold: breaker.failureThreshold ?? 5, openMs: breaker.openMs ?? 400 },
  countCheckBreaker,
  lambdaLoadRuns: 5,
};

export const SMOKE: BenchSettings = {
  ...FULL,
  mode: 'smoke',
  healthy: { calls: 30, warmupCalls: 5, stateCacheMs: [0, 100, 1_000] },
  outage: {
    ...FULL.outage,
    callersPerProcess: 2,
    warmMs: 200,
    outageMs: 500,
    maxWaitForRejectMs: 5_000,
    maxWaitForCloseMs: 8_000,
    settleMs: 100,
    countCallsPerCaller: 5,
  },
  lambdaLoadRuns: 1,
};

/** The fleet scenario (issue 11): 64 instances against the item limits 10,000 containers would meet, scaled. */
export const FLEET: Record<'full' | 'smoke', FleetSettings> = {
  full: {
    processes: 4,
    instancesPerProcess: 16,
    thinkMs: 5,
    paceMs: 25,
    healthyDelayMs: 20,
    coldStartMs: 1_000,
    healthyMs: 6_000,
    deadMs: 6_000,
    maxWaitForCloseMs: 20_000,
    healedSettleMs: 1_000,
    unreachableMs: 4_000,
    statePollMs: 20,
    model: { containers: 10_000, readUnitsPerSecond: 3_000, writeUnitsPerSecond: 1_000 },
  },
  smoke: {
    processes: 4,
    instancesPerProcess: 2,
    thinkMs: 5,
    paceMs: 25,
    healthyDelayMs: 20,
    coldStartMs: 300,
    healthyMs: 800,
    deadMs: 1_500,
    maxWaitForCloseMs: 12_000,
    healedSettleMs: 200,
    unreachableMs: 800,
    statePollMs: 20,
    model: { containers: 10_000, readUnitsPerSecond: 3_000, writeUnitsPerSecond: 1_000 },
  },
};

/** The noise scenario (issue 14): 16 instances, 1% random failures. */
export const NOISE: Record<'full' | 'smoke', NoiseSettings> = {
  full: {
    processes: 4,
    instancesPerProcess: 4,
    thinkMs: 0,
    paceMs: 20,
    healthyDelayMs: 20,
    failFraction: 0.01,
    noiseMs: 8_000,
    ramp: { healthyMs: 500, maxWaitForOpenMs: 5_000, maxWaitForCloseMs: 15_000, observeMs: 3_000, binMs: 250 },
    statePollMs: 10,
  },
  smoke: {
    processes: 4,
    instancesPerProcess: 2,
    thinkMs: 0,
    paceMs: 20,
    healthyDelayMs: 20,
    failFraction: 0.01,
    noiseMs: 1_000,
    ramp: { healthyMs: 200, maxWaitForOpenMs: 5_000, maxWaitForCloseMs: 20_000, observeMs: 1_500, binMs: 250 },
    statePollMs: 10,
  },
};
