/**
 * The breaker variants the fleet scenario runs. Each is plain options; one the breaker refuses (checked at run time,
 * see optionSupport.ts) shows as "not available" with the breaker's message. Behaviour that needs no option
 * (eventually consistent refreshes, write coalescing, backoff on throttling) shows in every variant.
 */
import type { BreakerVariant } from '../optionSupport';

export type FleetVariant = BreakerVariant;

/**
 * The breaker as issue 11 measured it: threshold 5, open 2 s doubling to 8 s, one trial at a time (two successes
 * close), 1 s state cache. storeTimeoutMs is generous (2 s, the library's default is 250 ms): dynalite, the proxy and
 * 64 instances share two cores here, and store timeouts would hide what throttling does. Against real DynamoDB the
 * default holds; on this machine it would mostly measure the machine.
 */
export const FLEET_BREAKER: Readonly<Record<string, unknown>> = {
  failureThreshold: 5,
  windowMs: 10_000,
  timeoutMs: 2_000,
  slowCallMs: 1_000,
  openMs: 2_000,
  maxOpenMs: 8_000,
  backoffMultiplier: 2,
  halfOpenMaxCalls: 1,
  halfOpenSuccessThreshold: 2,
  stateCacheMs: 1_000,
  storeTimeoutMs: 2_000,
};

export const FLEET_VARIANTS: readonly FleetVariant[] = [
  { id: 'allow', label: "today: onStoreError 'allow'", options: { ...FLEET_BREAKER, onStoreError: 'allow' } },
  // Issue 11: per-instance protection while the store cannot answer.
  { id: 'local', label: "onStoreError 'local'", options: { ...FLEET_BREAKER, onStoreError: 'local' } },
  // Issues 11 + 14: the rate policy (its successes flushed fleet-wide) with the local mode.
  {
    id: 'rate-local',
    label: "rate policy + onStoreError 'local'",
    // The rate policy opens on a rate, not a count: failureThreshold is not given with it.
    options: { ...withoutCount(FLEET_BREAKER), onStoreError: 'local', failureRateThreshold: 0.5, minimumCalls: 20, countFlushMs: 1_000 },
  },
];

function withoutCount(options: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { failureThreshold: _count, ...rest } = options;
  return rest;
}
