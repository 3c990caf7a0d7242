/**
 * A `StateStore` that times each operation of the store it wraps (wall time from the call to its settlement, in ms,
 * failures included), so the bench can report p50/p99 per operation for any store, under the scenario's own load.
 */
import { performance } from 'node:perf_hooks';
import type { StateStore } from '../src/breaker';
import { summarize, type LatencySummary } from './percentiles';

export const STORE_OPERATIONS = ['read', 'recordCount', 'transition', 'acquirePermit', 'recordTrialSuccess', 'releasePermit'] as const;
export type StoreOperation = (typeof STORE_OPERATIONS)[number];

/** Samples in ms, by operation; an operation never called has no key. */
export type StoreSamples = Partial<Record<StoreOperation, number[]>>;

export function timedStore(store: StateStore, samples: StoreSamples): StateStore {
  const time = async <T>(operation: StoreOperation, run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await run();
    } finally {
      (samples[operation] ??= []).push(performance.now() - started);
    }
  };
  return {
    read: (circuit, options) => time('read', () => store.read(circuit, options)),
    recordCount: (circuit, request, options) => time('recordCount', () => store.recordCount(circuit, request, options)),
    transition: (circuit, request, options) => time('transition', () => store.transition(circuit, request, options)),
    acquirePermit: (circuit, request, options) => time('acquirePermit', () => store.acquirePermit(circuit, request, options)),
    releasePermit: (circuit, permit, options) => time('releasePermit', () => store.releasePermit(circuit, permit, options)),
    recordTrialSuccess: (circuit, permit, options) => time('recordTrialSuccess', () => store.recordTrialSuccess(circuit, permit, options)),
  };
}

/** Appends every sample of `from` to `into`. */
export function mergeSamples(into: StoreSamples, from: StoreSamples): StoreSamples {
  for (const operation of STORE_OPERATIONS) {
    const more = from[operation];
    if (more && more.length > 0) (into[operation] ??= []).push(...more);
  }
  return into;
}

/** p50/p99 etc. per operation that has samples. */
export function summarizeSamples(samples: StoreSamples): Partial<Record<StoreOperation, LatencySummary>> {
  const out: Partial<Record<StoreOperation, LatencySummary>> = {};
  for (const operation of STORE_OPERATIONS) {
    const taken = samples[operation];
    if (taken && taken.length > 0) out[operation] = summarize(taken);
  }
  return out;
}
