/** One log line per breaker event worth a person's attention; state changes always. */
import type { BreakerEvent } from '../breaker';
import { errorSummary, type Log } from './logger';

export function logBreakerEvent(logger: Log, event: BreakerEvent): void {
  switch (event.type) {
    case 'stateChange': {
      const line = { circuit: event.circuit, from: event.from, state: event.to, reason: event.reason, at: event.at, openUntil: event.openUntil };
      if (event.to === 'CLOSED') logger.info('circuit state changed', line);
      else logger.warn('circuit state changed', line);
      return;
    }
    case 'storeError':
      logger.warn('circuit breaker store error', {
        circuit: event.circuit,
        operation: event.operation,
        policy: event.policy,
        kind: event.kind,
        mode: event.mode,
        skipped: event.skipped,
        error: errorSummary(event.error),
      });
      return;
    case 'localMode':
      // The container decides alone (breaker table unreachable) or is back on the shared state.
      if (event.active) logger.warn('circuit breaker in local mode: the breaker table cannot answer', { circuit: event.circuit, mode: 'local', at: event.at });
      else logger.info('circuit breaker back on the shared state', { circuit: event.circuit, mode: 'shared', at: event.at });
      return;
    case 'localStateChange': {
      const line = { circuit: event.circuit, scope: 'local', from: event.from, state: event.to, reason: event.reason, at: event.at, openUntil: event.openUntil };
      if (event.to === 'CLOSED') logger.info('local circuit state changed', line);
      else logger.warn('local circuit state changed', line);
      return;
    }
    case 'outcomeDiscarded':
      logger.info('call outcome not counted: its period had ended', { circuit: event.circuit, outcome: event.outcome, reason: event.reason });
      return;
    case 'itemRepaired':
      logger.warn('circuit breaker state item repaired', { circuit: event.circuit, problems: event.problems });
      return;
    case 'rejected':
      logger.debug('call rejected by circuit breaker', { circuit: event.circuit, state: event.state, retryAfterMs: event.retryAfterMs });
      return;
    case 'callCompleted':
      logger.debug('call through circuit breaker completed', {
        circuit: event.circuit,
        state: event.state,
        outcome: event.outcome,
        latencyMs: event.durationMs,
      });
      return;
  }
}
