import { BREAKER_DEFAULTS, BreakerConfigError, CircuitBreaker, FailureCountPolicy, FailureRatePolicy, MemoryStateStore, type CircuitBreakerOptions } from '../../../src/breaker';

const base = (): CircuitBreakerOptions => ({ name: 'c', store: new MemoryStateStore() });

describe('options', () => {
  test('the documented defaults', () => {
    expect(BREAKER_DEFAULTS).toEqual({
      failureThreshold: 5,
      windowMs: 60_000,
      windowBuckets: 10,
      timeoutMs: 3_000,
      slowCallMs: 2_000,
      openMs: 10_000,
      maxOpenMs: 300_000,
      backoffMultiplier: 2,
      jitterRatio: 0.2,
      halfOpenMaxCalls: 2,
      halfOpenSuccessThreshold: 2,
      permitLeaseMarginMs: 1_000,
      stateCacheMs: 1_000,
      storeTimeoutMs: 250,
      storeMaxAttempts: 2,
      onStoreError: 'local',
      closedStateCacheMs: 5_000,
      itemTtlMs: 7 * 24 * 60 * 60 * 1000,
      countFlushMs: 20_000,
      rampUpMs: 0,
      rampUpStartFraction: 0.1,
    });
    expect(() => new CircuitBreaker(base())).not.toThrow();
  });

  test.each<[string, Record<string, unknown>]>([
    ['name', { name: '' }],
    ['store', { store: {} }],
    ['failureThreshold', { failureThreshold: 0 }],
    ['failureThreshold', { failureThreshold: 2.5 }],
    ['windowMs', { windowMs: -1 }],
    ['windowMs', { windowMs: 5, windowBuckets: 10 }],
    ['timeoutMs', { timeoutMs: '3000' }],
    ['slowCallMs', { slowCallMs: 4_000, timeoutMs: 3_000 }],
    ['openMs', { openMs: 0 }],
    ['maxOpenMs', { openMs: 10_000, maxOpenMs: 5_000 }],
    ['backoffMultiplier', { backoffMultiplier: 0.5 }],
    ['backoffMultiplier', { backoffMultiplier: Number.NaN }],
    ['jitterRatio', { jitterRatio: 1 }],
    ['halfOpenMaxCalls', { halfOpenMaxCalls: 0 }],
    ['halfOpenSuccessThreshold', { halfOpenSuccessThreshold: 0 }],
    ['stateCacheMs', { stateCacheMs: -1 }],
    ['storeTimeoutMs', { storeTimeoutMs: 600_000 }],
    ['storeMaxAttempts', { storeMaxAttempts: 0 }],
    ['onStoreError', { onStoreError: 'ignore' }],
    ['itemTtlMs', { itemTtlMs: -1 }],
    ['itemTtlMs', { itemTtlMs: 30 * 60 * 1000 }],
    ['itemTtlMs', { itemTtlMs: 2 * 60 * 60 * 1000, maxOpenMs: 3 * 60 * 60 * 1000 }],
    ['isFailure', { isFailure: true }],
    ['now', { now: 5 }],
    ['openingPolicy', { openingPolicy: {} }],
    ['failureTreshold', { failureTreshold: 3 }],
    // The rate policy (issue 14): both options or neither, never with a count threshold or a policy of one's own.
    ['failureRateThreshold', { failureRateThreshold: 0, minimumCalls: 10 }],
    ['failureRateThreshold', { failureRateThreshold: 50, minimumCalls: 10 }],
    ['failureRateThreshold', { failureRateThreshold: Number.NaN, minimumCalls: 10 }],
    ['failureRateThreshold', { minimumCalls: 10 }],
    ['minimumCalls', { failureRateThreshold: 0.5 }],
    ['minimumCalls', { failureRateThreshold: 0.5, minimumCalls: 0 }],
    ['minimumCalls', { failureRateThreshold: 0.5, minimumCalls: 2.5 }],
    ['failureThreshold', { failureRateThreshold: 0.5, minimumCalls: 10, failureThreshold: 5 }],
    ['openingPolicy', { failureRateThreshold: 0.5, minimumCalls: 10, openingPolicy: new FailureCountPolicy(5, 60_000) }],
    ['countFlushMs', { countFlushMs: -1 }],
    ['countFlushMs', { countFlushMs: 1.5 }],
    // 2 x (countFlushMs + stateCacheMs) must fit in windowMs - bucketMs (54 s by default): 2 x (26 s + 1 s) = 54 s fits, 2 x 27.001 s does not.
    ['countFlushMs', { failureRateThreshold: 0.5, minimumCalls: 10, countFlushMs: 26_001 }],
    ['stateCacheMs', { failureRateThreshold: 0.5, minimumCalls: 10, windowMs: 1_000, stateCacheMs: 1_000 }],
    ['rampUpMs', { rampUpMs: -1 }],
    ['rampUpMs', { rampUpMs: 25 * 60 * 60 * 1000 }],
    ['rampUpStartFraction', { rampUpMs: 1_000, rampUpStartFraction: 0 }],
    ['rampUpStartFraction', { rampUpStartFraction: 1.5 }],
  ])('rejects a bad %s with an error naming it', (option, overrides) => {
    let error: unknown;
    try {
      new CircuitBreaker({ ...base(), ...overrides } as CircuitBreakerOptions);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BreakerConfigError);
    expect((error as BreakerConfigError).option).toBe(option);
    expect((error as Error).message).toContain(`'${option}'`);
  });

  test('itemTtlMs may be 0 (never expire) or any span covering an open period, a window and a lease', () => {
    expect(() => new CircuitBreaker({ ...base(), itemTtlMs: 0 })).not.toThrow();
    expect(() => new CircuitBreaker({ ...base(), itemTtlMs: 60 * 60 * 1000 })).not.toThrow();
  });

  test('failureRateThreshold and minimumCalls choose the FailureRatePolicy; its flush lag is countFlushMs + stateCacheMs', () => {
    const breaker = new CircuitBreaker({ ...base(), failureRateThreshold: 0.5, minimumCalls: 20, countFlushMs: 5_000, stateCacheMs: 500 });
    const policy = (breaker as unknown as { settings: { openingPolicy: unknown } }).settings.openingPolicy;
    expect(policy).toBeInstanceOf(FailureRatePolicy);
    expect(policy).toMatchObject({ failureRateThreshold: 0.5, minimumCalls: 20, windowMs: 60_000, windowBuckets: 10, flushLagMs: 5_500 });
    expect(() => new CircuitBreaker({ ...base(), failureRateThreshold: 0.5, minimumCalls: 10, countFlushMs: 26_000 })).not.toThrow();
  });

  test('the default flush period shrinks to fit a short window (a set one must fit as it is)', () => {
    const breaker = new CircuitBreaker({ ...base(), failureRateThreshold: 0.5, minimumCalls: 5, windowMs: 10_000, stateCacheMs: 1_000 });
    // (10 s - 1 s) / 2 - 1 s = 3.5 s
    expect((breaker as unknown as { settings: { countFlushMs: number } }).settings.countFlushMs).toBe(3_500);
  });

  test('halfOpenSuccessThreshold may exceed halfOpenMaxCalls (trials run one after another)', () => {
    expect(() => new CircuitBreaker({ ...base(), halfOpenMaxCalls: 1, halfOpenSuccessThreshold: 5 })).not.toThrow();
  });
});
