/** What getState() and the operator overrides report: the shared state as a plain object. */
import type { CircuitStateName } from './events';
import type { OpeningPolicy } from './OpeningPolicy';
import { rampUpFraction, type RampUpSettings } from './rampUp';
import { livePermits, type CircuitRecord } from './state';
import { isWindowedOpeningPolicy } from './WindowedOpeningPolicy';

export interface CircuitSnapshot {
  circuit: string;
  state: CircuitStateName;
  /** Failures counted in the current window (all instances; what instances have flushed so far). */
  failures: number;
  /** Calls (successes and failures) counted in the current window, when the policy counts successes (rate policy). */
  calls?: number;
  /** failures / calls over the whole window (0 with no calls), when the policy counts successes. */
  failureRate?: number;
  /** When the circuit last closed (epoch ms); ramp-up runs from it. */
  closedAt?: number;
  /** While CLOSED and ramping up after a close (rampUpMs): the fraction of calls admitted now, in (0, 1). */
  rampUpFraction?: number;
  /** When an OPEN circuit may next be probed, epoch ms. */
  openUntil?: number;
  /** ms until the circuit may be probed; 0 if not open; null when FORCED_OPEN (no end is promised). */
  retryAfterMs: number | null;
  /** When the circuit last opened, epoch ms (kept while OPEN, HALF_OPEN or FORCED_OPEN after an opening). */
  openedAt?: number;
  /** Why it last opened: failureThreshold, failureRate or trialFailed. */
  openReason?: string;
  /** Failures in the window that opened it. */
  openFailures?: number;
  /** Calls in the window that opened it (rate policy). */
  openCalls?: number;
  /** Reopens straight from half-open since the last close: the backoff step of the current/next open period. */
  reopenCount: number;
  /** Trial permits currently leased (half-open). */
  trialsInFlight: number;
  /** Successful trials in the current half-open period. */
  trialSuccesses: number;
  /** The item's version (null before the first write, or when malformed). */
  version: number | null;
  /** Why the stored item was treated as closed; empty when it is well-formed. */
  problems: string[];
}

/** What a snapshot needs of the settings: the policy (counts) and the ramp-up. */
export type SnapshotSettings = { openingPolicy: OpeningPolicy } & RampUpSettings;

export function snapshotOf(record: CircuitRecord, now: number, settings: SnapshotSettings): CircuitSnapshot {
  const policy = settings.openingPolicy;
  const open = record.state === 'OPEN' && record.openUntil !== undefined;
  const totals = isWindowedOpeningPolicy(policy) ? policy.windowTotals(record.counters, now) : undefined;
  const ramp = record.state === 'CLOSED' ? rampUpFraction(record.closedAt, now, settings) : 1;
  return {
    circuit: record.circuit,
    state: record.state,
    failures: policy.failuresInWindow(record.counters, now),
    ...(totals ? { calls: totals.calls, failureRate: totals.calls === 0 ? 0 : totals.failures / totals.calls } : {}),
    ...(record.closedAt === undefined ? {} : { closedAt: record.closedAt }),
    ...(ramp < 1 ? { rampUpFraction: ramp } : {}),
    ...(open ? { openUntil: record.openUntil } : {}),
    retryAfterMs: record.state === 'FORCED_OPEN' ? null : open ? Math.max(0, (record.openUntil as number) - now) : 0,
    ...(record.state === 'CLOSED' || record.state === 'DISABLED' ? {} : (record.opening ?? {})),
    reopenCount: record.backoffStep,
    trialsInFlight: record.state === 'HALF_OPEN' ? livePermits(record, now).length : 0,
    trialSuccesses: record.trialSuccesses,
    version: record.version,
    problems: [...record.problems],
  };
}
