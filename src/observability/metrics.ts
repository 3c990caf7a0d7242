/**
 * CloudWatch metrics through Powertools for AWS Lambda's Metrics: Embedded Metric Format lines on stdout, which
 * Lambda's log pipeline turns into metrics (no PutMetricData call, no extra permission, no latency on the request).
 * Namespace = the service name; dimensions `service` and `circuit`. The names are the exported constants below
 * (serverless.yml's alarms and dashboard use them; the packaging test compares the two). What an operator alarms on:
 *   CircuitOpened, CircuitClosed   a state change made by this container (the fleet-wide total is the sum)
 *   BreakerStoreErrors             the breaker table did not answer in budget
 *   Fresh/Cached/NotFound/InvalidRecord/DirectoryRejected/Unavailable/CacheUnavailable/InternalErrorAnswers
 *                                  how each request was answered
 *   BreakerLocalMode               a container entered (1) or left (0) local mode: deciding alone, table unreachable
 *   InvalidDirectoryRecords        the directory answered an invalid record (not counted by the breaker)
 *   BreakerOutcomesDiscarded       call outcomes not counted because their period had ended (late results)
 *   DirectoryCallFailures, DirectoryCallsRejected, DirectoryLatency   the downstream as the breaker saw it
 * The handler publishes once per request (one EMF line); breaker events land in the same batch.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { BreakerEvent } from '../breaker';

export type RequestMetrics = Pick<Metrics, 'addMetric' | 'publishStoredMetrics'>;

/** Every metric name the service emits (or reserves), by meaning. */
export const METRIC = {
  circuitOpened: 'CircuitOpened',
  circuitClosed: 'CircuitClosed',
  breakerStoreErrors: 'BreakerStoreErrors',
  breakerOutcomesDiscarded: 'BreakerOutcomesDiscarded',
  /**
   * A container started or stopped deciding alone because the breaker table cannot answer (`onStoreError:
   * 'local'`): 1 when it enters local mode, 0 when it returns to the shared state. Sum = entries into local mode,
   * Maximum = whether any container was in local mode in the period.
   */
  breakerLocalMode: 'BreakerLocalMode',
  freshAnswers: 'FreshAnswers',
  cachedAnswers: 'CachedAnswers',
  notFoundAnswers: 'NotFoundAnswers',
  invalidRecordAnswers: 'InvalidRecordAnswers',
  directoryRejectedAnswers: 'DirectoryRejectedAnswers',
  unavailableAnswers: 'UnavailableAnswers',
  cacheUnavailableAnswers: 'CacheUnavailableAnswers',
  /** 500: the handler's catch path (a bug or invalid configuration), emitted by the handler itself. */
  internalErrorAnswers: 'InternalErrorAnswers',
  invalidDirectoryRecords: 'InvalidDirectoryRecords',
  directoryCallFailures: 'DirectoryCallFailures',
  directoryCallsRejected: 'DirectoryCallsRejected',
  directoryLatency: 'DirectoryLatency',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/**
 * What a request's metrics need of its result (GetUser's result has this shape): observability depends on no use
 * case, the use case's result fits this.
 */
export interface AnsweredRequest {
  kind: 'fresh' | 'cached' | 'notFound' | 'invalidRecord' | 'rejected' | 'unavailable' | 'cacheUnavailable';
  /** The downstream call: how it ended (`rejected` = not permitted by the breaker), how long it took (ms), and whether its record was invalid. */
  call: { outcome: string; latencyMs: number; invalidRecord?: unknown };
}

/** The metric each kind of answer adds one to. */
export const ANSWER_METRIC: Readonly<Record<AnsweredRequest['kind'], MetricName>> = {
  fresh: METRIC.freshAnswers,
  cached: METRIC.cachedAnswers,
  notFound: METRIC.notFoundAnswers,
  invalidRecord: METRIC.invalidRecordAnswers,
  rejected: METRIC.directoryRejectedAnswers,
  unavailable: METRIC.unavailableAnswers,
  cacheUnavailable: METRIC.cacheUnavailableAnswers,
};

export function createMetrics(options: { serviceName: string; circuit: string }): Metrics {
  return new Metrics({ namespace: options.serviceName, serviceName: options.serviceName, defaultDimensions: { circuit: options.circuit } });
}

/** The request's own metrics; call publishStoredMetrics() after. */
export function recordRequest(metrics: RequestMetrics, result: AnsweredRequest): void {
  metrics.addMetric(ANSWER_METRIC[result.kind], MetricUnit.Count, 1);
  if (result.call.invalidRecord !== undefined) metrics.addMetric(METRIC.invalidDirectoryRecords, MetricUnit.Count, 1);
  const { outcome, latencyMs } = result.call;
  if (outcome === 'rejected') {
    metrics.addMetric(METRIC.directoryCallsRejected, MetricUnit.Count, 1);
    return;
  }
  metrics.addMetric(METRIC.directoryLatency, MetricUnit.Milliseconds, latencyMs);
  if (outcome === 'failure' || outcome === 'timeout' || outcome === 'slow') metrics.addMetric(METRIC.directoryCallFailures, MetricUnit.Count, 1);
}

/** A request answered 500 (the handler's catch path); call publishStoredMetrics() after. */
export function recordInternalError(metrics: RequestMetrics): void {
  metrics.addMetric(METRIC.internalErrorAnswers, MetricUnit.Count, 1);
}

export function recordBreakerEvent(metrics: RequestMetrics, event: BreakerEvent): void {
  if (event.type === 'stateChange' && (event.to === 'OPEN' || event.to === 'FORCED_OPEN')) metrics.addMetric(METRIC.circuitOpened, MetricUnit.Count, 1);
  if (event.type === 'stateChange' && event.to === 'CLOSED') metrics.addMetric(METRIC.circuitClosed, MetricUnit.Count, 1);
  if (event.type === 'storeError') metrics.addMetric(METRIC.breakerStoreErrors, MetricUnit.Count, 1);
  if (event.type === 'outcomeDiscarded') metrics.addMetric(METRIC.breakerOutcomesDiscarded, MetricUnit.Count, 1);
  if (event.type === 'localMode') metrics.addMetric(METRIC.breakerLocalMode, MetricUnit.Count, event.active ? 1 : 0);
}
