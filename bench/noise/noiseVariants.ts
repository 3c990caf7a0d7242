/**
 * The noise scenario's variants (issue 14). One the breaker refuses (checked at run time, optionSupport.ts) shows as
 * "not available" with the breaker's message.
 */
import type { BreakerVariant } from '../optionSupport';

export type NoiseVariant = BreakerVariant;

/** Open 2 s doubling to 8 s, one trial at a time (two successes close), 1 s cache, a 60 s window as issue 14 measured. */
export const NOISE_BREAKER: Readonly<Record<string, unknown>> = {
  windowMs: 60_000,
  timeoutMs: 2_000,
  slowCallMs: 1_000,
  openMs: 2_000,
  maxOpenMs: 8_000,
  backoffMultiplier: 2,
  halfOpenMaxCalls: 1,
  halfOpenSuccessThreshold: 2,
  stateCacheMs: 1_000,
  // Generous: the noise scenario is about the opening rule, not about a busy machine's store latency.
  storeTimeoutMs: 1_000,
};

/** Side by side under 1% background failures. */
export const NOISE_VARIANTS: readonly NoiseVariant[] = [
  { id: 'count', label: 'count policy: 5 failures in 60 s', options: { ...NOISE_BREAKER, failureThreshold: 5 } },
  { id: 'rate', label: 'rate policy: 50% of at least 20 calls', options: { ...NOISE_BREAKER, failureRateThreshold: 0.5, minimumCalls: 20 } },
];

/** After a close: without ramp-up (every call admitted at once) and with it. */
export const RAMP_VARIANTS: readonly NoiseVariant[] = [
  { id: 'no-ramp', label: 'today: no ramp-up (count policy)', options: { ...NOISE_BREAKER, failureThreshold: 5 } },
  {
    id: 'ramp',
    label: 'rate policy, rampUpMs 2000 from 0.1',
    // A 10 s window of 1 s buckets, a 0.5 s flush period and a 1 s closed cache: the rate is judged over counts
    // reaching back 2 x (countFlushMs + closedStateCacheMs) = 3 s, so this short run opens within the scenario's wait.
    options: { ...NOISE_BREAKER, windowMs: 10_000, countFlushMs: 500, closedStateCacheMs: 1_000, failureRateThreshold: 0.5, minimumCalls: 20, rampUpMs: 2_000, rampUpStartFraction: 0.1 },
  },
];
