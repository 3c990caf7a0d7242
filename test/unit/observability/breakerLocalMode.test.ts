/** The local mode reaches operators: the BreakerLocalMode metric and a log line per change of mode. */
import type { BreakerEvent } from '../../../src/breaker';
import { logBreakerEvent } from '../../../src/observability/breakerEventLog';
import type { Log } from '../../../src/observability/logger';
import { METRIC, recordBreakerEvent, type RequestMetrics } from '../../../src/observability/metrics';

function recorder() {
  const added: Array<[string, number]> = [];
  const metrics = { addMetric: (name: string, _unit: unknown, value: number) => added.push([name, value]), publishStoredMetrics: () => undefined } as unknown as RequestMetrics;
  return { metrics, added };
}

describe('local mode in metrics and logs', () => {
  const entered: BreakerEvent = { type: 'localMode', circuit: 'user-directory', active: true, at: 1 };
  const left: BreakerEvent = { type: 'localMode', circuit: 'user-directory', active: false, at: 2 };

  test('BreakerLocalMode is 1 on entering and 0 on leaving', () => {
    const { metrics, added } = recorder();
    recordBreakerEvent(metrics, entered);
    recordBreakerEvent(metrics, left);
    expect(added).toEqual([
      [METRIC.breakerLocalMode, 1],
      [METRIC.breakerLocalMode, 0],
    ]);
  });

  test('a local state change is not counted as the shared circuit opening', () => {
    const { metrics, added } = recorder();
    recordBreakerEvent(metrics, { type: 'localStateChange', circuit: 'c', from: 'CLOSED', to: 'OPEN', reason: 'failureThreshold', at: 1 });
    expect(added).toEqual([]);
  });

  test('entering is a warning, leaving an info line; store errors say their kind and mode', () => {
    const lines: Array<[string, string, unknown]> = [];
    const logger = {
      debug: (m: string, a: unknown) => lines.push(['debug', m, a]),
      info: (m: string, a: unknown) => lines.push(['info', m, a]),
      warn: (m: string, a: unknown) => lines.push(['warn', m, a]),
      error: (m: string, a: unknown) => lines.push(['error', m, a]),
    } as unknown as Log;
    logBreakerEvent(logger, entered);
    logBreakerEvent(logger, left);
    logBreakerEvent(logger, { type: 'storeError', circuit: 'c', operation: 'read', error: new Error('x'), policy: 'local', kind: 'unreachable', mode: 'local', skipped: false, at: 3 });
    expect(lines.map(([level, message]) => `${level}: ${message}`)).toEqual([
      'warn: circuit breaker in local mode: the breaker table cannot answer',
      'info: circuit breaker back on the shared state',
      'warn: circuit breaker store error',
    ]);
    expect(lines[2][2]).toMatchObject({ kind: 'unreachable', mode: 'local' });
  });
});
