import { recordBreakerEvent, type RequestMetrics } from '../../../src/observability/metrics';

function recorder(): { metrics: RequestMetrics; added: string[] } {
  const added: string[] = [];
  const metrics = { addMetric: (name: string) => added.push(name), publishStoredMetrics: () => undefined } as unknown as RequestMetrics;
  return { metrics, added };
}

test('every outcome the breaker did not record is a metric: store errors (skipped ones too) and discarded late outcomes', () => {
  const { metrics, added } = recorder();
  const error = new Error('x');
  recordBreakerEvent(metrics, { type: 'storeError', circuit: 'c', operation: 'recordCount', error, policy: 'allow', kind: 'unknown', mode: 'shared', skipped: false, at: 0 });
  recordBreakerEvent(metrics, { type: 'storeError', circuit: 'c', operation: 'recordCount', error, policy: 'allow', kind: 'unreachable', mode: 'shared', skipped: true, at: 0 });
  recordBreakerEvent(metrics, { type: 'outcomeDiscarded', circuit: 'c', outcome: 'failure', reason: 'periodEnded', at: 0 });
  expect(added).toEqual(['BreakerStoreErrors', 'BreakerStoreErrors', 'BreakerOutcomesDiscarded']);
});
