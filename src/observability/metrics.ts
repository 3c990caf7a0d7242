/**
 * CloudWatch metrics through Powertools for AWS Lambda's Metrics: Embedded Metric Format lines on stdout, which
 * Lambda's log pipeline turns into metrics (no PutMetricData call, no extra permission, no latency on the request).
 * Namespace = the service name; dimensions `service` and `circuit`. What an operator alarms on:
 *   CircuitOpened, CircuitClosed   a state change made by this container (the fleet-wide total is the sum)
 *   BreakerStoreErrors             the breaker table did not answer in budget (or was not asked: failed moments ago)
 *   BreakerOutcomesDiscarded       call outcomes not counted because their period had ended (late results)
 *   Fresh/Cached/NotFound/UnavailableAnswers   how each request was answered
 *   DirectoryCallFailures, DirectoryCallsRejected, DirectoryLatency   the downstream as the breaker saw it
 * The handler publishes once per request (one EMF line); breaker events land in the same batch.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { BreakerEvent } from '../breaker/events';
import type { GetUserResult } from '../users/getUser';

export type RequestMetrics = Pick<Metrics, 'addMetric' | 'publishStoredMetrics'>;

export function createMetrics(options: { serviceName: string; circuit: string }): Metrics {
  return new Metrics({ namespace: options.serviceName, serviceName: options.serviceName, defaultDimensions: { circuit: options.circuit } });
}

const ANSWER_METRIC: Record<GetUserResult['kind'], string> = {
  fresh: 'FreshAnswers',
  cached: 'CachedAnswers',
  notFound: 'NotFoundAnswers',
  unavailable: 'UnavailableAnswers',
};

/** The request's own metrics; call publishStoredMetrics() after. */
export function recordRequest(metrics: RequestMetrics, result: GetUserResult): void {
  metrics.addMetric(ANSWER_METRIC[result.kind], MetricUnit.Count, 1);
  const { outcome, latencyMs } = result.call;
  if (outcome === 'rejected') {
    metrics.addMetric('DirectoryCallsRejected', MetricUnit.Count, 1);
    return;
  }
  metrics.addMetric('DirectoryLatency', MetricUnit.Milliseconds, latencyMs);
  if (outcome === 'failure' || outcome === 'timeout' || outcome === 'slow') metrics.addMetric('DirectoryCallFailures', MetricUnit.Count, 1);
}

export function recordBreakerEvent(metrics: RequestMetrics, event: BreakerEvent): void {
  if (event.type === 'stateChange' && (event.to === 'OPEN' || event.to === 'FORCED_OPEN')) metrics.addMetric('CircuitOpened', MetricUnit.Count, 1);
  if (event.type === 'stateChange' && event.to === 'CLOSED') metrics.addMetric('CircuitClosed', MetricUnit.Count, 1);
  if (event.type === 'storeError') metrics.addMetric('BreakerStoreErrors', MetricUnit.Count, 1);
  if (event.type === 'outcomeDiscarded') metrics.addMetric('BreakerOutcomesDiscarded', MetricUnit.Count, 1);
}
