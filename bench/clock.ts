import { performance } from 'node:perf_hooks';

/**
 * Epoch milliseconds with sub-millisecond resolution. Processes on one machine share the epoch, so the bench
 * compares times taken in different worker processes (a death in the parent, a first rejection in a worker).
 */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
