import type { BreakerEvent, BreakerEventListener } from '../../../src/breaker/events';
import { BreakerCallObserver } from '../../../src/observability/breakerCallObserver';

function observerWithEmitter(): { observer: BreakerCallObserver; emit: (event: BreakerEvent) => void } {
  let listener: BreakerEventListener = () => undefined;
  const observer = new BreakerCallObserver((subscribed) => (listener = subscribed));
  return { observer, emit: (event) => listener(event) };
}

const completed = (outcome: 'success' | 'failure', state: 'CLOSED' | 'HALF_OPEN'): BreakerEvent => ({
  type: 'callCompleted',
  circuit: 'c',
  outcome,
  durationMs: 1,
  state,
  at: 0,
});

describe('BreakerCallObserver', () => {
  it('attributes each event to the call whose async context emitted it, with calls running concurrently', async () => {
    const { observer, emit } = observerWithEmitter();
    let releaseFirst!: () => void;
    const firstMayFinish = new Promise<void>((resolve) => (releaseFirst = resolve));

    const first = observer.observe(async () => {
      await firstMayFinish;
      emit(completed('failure', 'HALF_OPEN'));
      throw new Error('boom');
    });
    const second = observer.observe(async () => {
      emit(completed('success', 'CLOSED'));
      return 'ok';
    });
    const secondResult = await second;
    releaseFirst();
    const firstResult = await first;

    expect(secondResult).toMatchObject({ settled: { ok: true, value: 'ok' }, outcome: 'success', state: 'CLOSED' });
    expect(firstResult).toMatchObject({ settled: { ok: false }, outcome: 'failure', state: 'HALF_OPEN' });
    expect(firstResult.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('records a rejection and the open period a failure started', async () => {
    const { observer, emit } = observerWithEmitter();
    const rejected = await observer.observe(async () => {
      emit({ type: 'rejected', circuit: 'c', state: 'OPEN', retryAfterMs: 900, at: 0 });
      throw new Error('open');
    });
    expect(rejected).toMatchObject({ outcome: 'rejected', state: 'OPEN' });

    const opened = await observer.observe(async () => {
      emit(completed('failure', 'CLOSED'));
      emit({ type: 'stateChange', circuit: 'c', from: 'CLOSED', to: 'OPEN', reason: 'failureThreshold', at: 0, openUntil: 5000 });
      throw new Error('down');
    });
    expect(opened).toMatchObject({ outcome: 'failure', state: 'CLOSED', openUntil: 5000 });
  });

  it('ignores events emitted outside any observed call', async () => {
    const { observer, emit } = observerWithEmitter();
    emit(completed('failure', 'CLOSED'));
    const result = await observer.observe(async () => 1);
    expect(result.outcome).toBeUndefined();
    expect(result.state).toBeUndefined();
  });
});
