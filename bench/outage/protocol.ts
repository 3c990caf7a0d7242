/**
 * IPC messages between the outage scenario (parent) and its worker processes. Phases move only on these
 * messages, never on sleeps: the parent says when the downstream died or healed, workers say when they first
 * rejected and what they counted.
 */
import type { RequestCounts } from '../requestCounter';
import type { VariantSpec } from '../variants';

export interface WorkerSetup {
  dynamoEndpoint: string;
  tableName: string;
  downstreamUrl: string;
  callers: number;
  /** Pause between one caller's calls: a steady offered load rather than a tight loop. */
  thinkMs: number;
  /** Safety bound: callers stop on their own after this long. */
  maxRunMs: number;
}

export type ToWorker =
  | { type: 'configure'; workerIndex: number; spec: VariantSpec; setup: WorkerSetup }
  | { type: 'start' }
  | { type: 'downstreamDied'; at: number }
  | { type: 'downstreamHealed'; at: number }
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
