/** StateStore wrappers for unit tests: count requests, fail or hang on demand. */
import type { StateStore } from '../../../src/breaker';

type Operation = keyof StateStore;
const OPERATIONS: Operation[] = ['read', 'recordCount', 'transition', 'acquirePermit', 'releasePermit', 'recordTrialSuccess'];

export type Fault = 'error' | 'hang' | 'throttle' | undefined;

/**
 * Passes every request to `inner`, counting them per operation. `fault` makes every request fail at once ('error')
 * or never answer ('hang'); `faultFor` does it only for some operations. Hung requests record the AbortSignal they got.
 */
export class InstrumentedStore implements StateStore {
  readonly calls: Record<Operation, number> = { read: 0, recordCount: 0, transition: 0, acquirePermit: 0, releasePermit: 0, recordTrialSuccess: 0 };
  readonly requests: Array<{ operation: Operation; request: unknown }> = [];
  fault: Fault;
  faultFor = new Set<Operation>();
  readonly abortedSignals: AbortSignal[] = [];
  read: StateStore['read'];
  recordCount: StateStore['recordCount'];
  transition: StateStore['transition'];
  acquirePermit: StateStore['acquirePermit'];
  releasePermit: StateStore['releasePermit'];
  recordTrialSuccess: StateStore['recordTrialSuccess'];

  constructor(readonly inner: StateStore) {
    const wrap = (operation: Operation) =>
      (async (circuit: string, ...rest: unknown[]) => {
        this.calls[operation]++;
        const options = rest[rest.length - 1] as { abortSignal: AbortSignal };
        this.requests.push({ operation, request: rest.length > 1 ? rest[0] : undefined });
        if (this.fault && (this.faultFor.size === 0 || this.faultFor.has(operation))) {
          if (this.fault === 'error') throw Object.assign(new Error('store is down'), { name: 'InternalServerError' });
          if (this.fault === 'throttle') throw Object.assign(new Error('The level of configured provisioned throughput for the table was exceeded'), { name: 'ProvisionedThroughputExceededException' });
          return new Promise((_, reject) => {
            options.abortSignal.addEventListener('abort', () => {
              this.abortedSignals.push(options.abortSignal);
              reject(new Error('aborted'));
            });
          });
        }
        return (inner[operation] as (...args: unknown[]) => Promise<unknown>).call(inner, circuit, ...rest);
      }) as never;
    this.read = wrap('read');
    this.recordCount = wrap('recordCount');
    this.transition = wrap('transition');
    this.acquirePermit = wrap('acquirePermit');
    this.releasePermit = wrap('releasePermit');
    this.recordTrialSuccess = wrap('recordTrialSuccess');
  }

  total(): number {
    return OPERATIONS.reduce((sum, operation) => sum + this.calls[operation], 0);
  }

  resetCounts(): void {
    for (const operation of OPERATIONS) this.calls[operation] = 0;
    this.requests.length = 0;
  }
}
