/** What getState() and the operator overrides report: the shared state as a plain object. */
import type { CircuitStateName } from './events';
import type { OpeningPolicy } from './OpeningPolicy';
import { livePermits, type CircuitRecord } from './state';

export interface CircuitSnapshot {
  circuit: string;
  state: CircuitStateName;
  /** Failures counted in the current window (all instances). */
  failures: number;
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

export function snapshotOf(record: CircuitRecord, now: number, policy: OpeningPolicy): CircuitSnapshot {
  const open = record.state === 'OPEN' && record.openUntil !== undefined;
  return {
    circuit: record.circuit,
    state: record.state,
    failures: policy.failuresInWindow(record.counters, now),
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
