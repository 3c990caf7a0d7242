/**
 * IPC messages between the outage scenario (parent) and its worker processes. Phases move only on these
 * messages, never on sleeps: the parent says when the downstream died or healed, workers say when they first
 * rejected and what they counted.
 */
import type { RequestCounts } from '../requestCounter';
import type { StoreSamples } from '../timedStore';
import type { VariantSpec } from '../variants';

export interface WorkerSetup {
  dynamoEndpoint: string;
  tableName: string;
  downstreamUrl: string;
  callers: number;
  /** Pause between one caller's calls: a steady offered load rather than a tight loop. */
  thinkMs: number;
  /**
   * One caller starts a call at most every paceMs (it waits out the rest after a short call, at least thinkMs), so a
   * rejected call, which returns at once, does not turn a caller into a busy loop. Default 0 (thinkMs only).
   */
  paceMs?: number;
  /** Safety bound: callers stop on their own after this long. */
  maxRunMs: number;
  /**
   * Each caller gets its own guard (one breaker instance per caller, like one Lambda container per caller) instead of
   * one guard shared by the process's callers. Call ids then name the instance: `<worker>.<caller>-<n>`.
   */
  instancePerCaller?: boolean;
  /** Keep every call's time and whether it was admitted (for admitted-fraction-over-time tables). */
  callLog?: boolean;
  /**
   * A Redis server for breaker specs with `store: 'redis'`. The worker then counts Redis commands (by command name)
   * wherever it otherwise counts DynamoDB requests.
   */
  redisUrl?: string;
  /** Time every store operation of the scenario's guards (WorkerReport.storeSamplesMs). */
  timeStore?: boolean;
}

/** What one process saw in one named phase (see the 'phase' message). */
export interface PhaseStats {
  calls: number;
  successes: number;
  failures: number;
  rejections: number;
  /** CircuitOpenError.state -> rejections (OPEN, HALF_OPEN, FORCED_OPEN, STORE_UNAVAILABLE, ...). */
  rejectionsByState: Record<string, number>;
  /** storeError events by the name of the store's error (ProvisionedThroughputExceededException, StoreTimeoutError, ...). */
  storeErrorsByCause: Record<string, number>;
  /** stateChange events to OPEN: each transition is emitted only by the instance whose write applied it. */
  opens: number;
  closes: number;
  /** DynamoDB requests the SDK sent in the phase, by operation (counted at the client). */
  dynamo: RequestCounts;
}

/** One call in a call log: epochNow() when it settled, and whether the breaker admitted it (1) or rejected it (0). */
export type LoggedCall = [at: number, admitted: 0 | 1];

export type ToWorker =
  | { type: 'configure'; workerIndex: number; spec: VariantSpec; setup: WorkerSetup }
  | { type: 'start' }
  | { type: 'downstreamDied'; at: number }
  | { type: 'downstreamHealed'; at: number }
  /** From now on, count into the phase `name` (a report has one PhaseStats per phase seen). */
  | { type: 'phase'; name: string; at: number }
  | { type: 'stop' }
  | { type: 'countFailures'; spec: VariantSpec; callsPerCaller: number }
  | { type: 'exit' };

export interface WorkerReport {
  workerIndex: number;
  calls: number;
  successes: number;
  failures: number;
  rejections: number;
  /** epochNow() of the first CircuitOpenError this process saw. */
  firstRejectionAt?: number;
  /** DynamoDB requests between the downstreamDied and downstreamHealed messages. */
  dynamoDuringOutage: RequestCounts;
  dynamoTotal: RequestCounts;
  /** Call ids (sent to the downstream in a header) of calls admitted as half-open trials. */
  trialCallIds: string[];
  /** Trials whose call id could not be attributed (should be 0; else the half-open check is incomplete). */
  unattributedTrials: number;
  /** Breaker instances in this process (callers with instancePerCaller, else 1). */
  instances: number;
  /** Per phase named by 'phase' messages (calls before the first one count under "start"). */
  phases: Record<string, PhaseStats>;
  /** Present when setup.callLog was set. */
  callLog?: LoggedCall[];
  /** Present when setup.timeStore was set: each store operation's duration, ms (the count check's guard excluded). */
  storeSamplesMs?: StoreSamples;
}

export interface CountReport {
  workerIndex: number;
  /** Calls whose protected function failed and that the breaker therefore had to count. */
  observedFailures: number;
  rejections: number;
  otherErrors: number;
  dynamoRequests: RequestCounts;
}

export type FromWorker =
  | { type: 'ready'; workerIndex: number }
  | { type: 'firstRejection'; workerIndex: number; at: number }
  | { type: 'report'; report: WorkerReport }
  | { type: 'countReport'; report: CountReport }
  | { type: 'failed'; workerIndex: number; message: string };
