import { ConfigError, loadConfig, SERVICE_BREAKER_DEFAULTS, worstCaseRequestMs } from '../../../src/config';

const minimal = {
  TABLE_NAME: 'simple-web-service-dev-users',
  BREAKER_TABLE_NAME: 'simple-web-service-dev-circuit-breakers',
  USER_DIRECTORY_URL: 'http://127.0.0.1:4010/',
};

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies defaults and leaves unset breaker options to the breaker', () => {
    expect(loadConfig(minimal)).toEqual({
      usersTableName: 'simple-web-service-dev-users',
      breakerStore: { kind: 'dynamodb', tableName: 'simple-web-service-dev-circuit-breakers' },
      userDirectoryUrl: 'http://127.0.0.1:4010',
      breaker: { name: 'user-directory', timeoutMs: 2000, storeMaxAttempts: 1 },
      usersTableTimeoutMs: 500,
      logLevel: 'INFO',
      serviceName: 'simple-web-service',
    });
  });

  it('reads every variable of the contract', () => {
    const config = loadConfig({
      ...minimal,
      BREAKER_NAME: 'directory',
      BREAKER_FAILURE_THRESHOLD: '5',
      BREAKER_WINDOW_MS: '10000',
      BREAKER_TIMEOUT_MS: '2000',
      BREAKER_SLOW_CALL_MS: '1500',
      BREAKER_OPEN_MS: '5000',
      BREAKER_MAX_OPEN_MS: '60000',
      BREAKER_BACKOFF_MULTIPLIER: '1.5',
      BREAKER_HALF_OPEN_MAX_CALLS: '1',
      BREAKER_HALF_OPEN_SUCCESS_THRESHOLD: '2',
      BREAKER_STATE_CACHE_MS: '0',
      BREAKER_STORE_TIMEOUT_MS: '300',
      BREAKER_STORE_MAX_ATTEMPTS: '1',
      BREAKER_PERMIT_LEASE_MARGIN_MS: '2500',
      BREAKER_ON_STORE_ERROR: 'deny',
      USERS_TABLE_TIMEOUT_MS: '400',
      DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000',
      LOG_LEVEL: 'debug',
      POWERTOOLS_SERVICE_NAME: 'svc',
    });
    expect(config).toEqual({
      usersTableName: 'simple-web-service-dev-users',
      breakerStore: { kind: 'dynamodb', tableName: 'simple-web-service-dev-circuit-breakers' },
      userDirectoryUrl: 'http://127.0.0.1:4010',
      breaker: {
        name: 'directory',
        failureThreshold: 5,
        windowMs: 10000,
        timeoutMs: 2000,
        slowCallMs: 1500,
        openMs: 5000,
        maxOpenMs: 60000,
        backoffMultiplier: 1.5,
        halfOpenMaxCalls: 1,
        halfOpenSuccessThreshold: 2,
        stateCacheMs: 0,
        storeTimeoutMs: 300,
        storeMaxAttempts: 1,
        permitLeaseMarginMs: 2500,
        onStoreError: 'deny',
      },
      usersTableTimeoutMs: 400,
      dynamodbEndpoint: 'http://127.0.0.1:8000',
      logLevel: 'DEBUG',
      serviceName: 'svc',
    });
  });

  it.each([
    ['TABLE_NAME', { ...minimal, TABLE_NAME: undefined }, /TABLE_NAME is required/],
    ['TABLE_NAME', { ...minimal, TABLE_NAME: '  ' }, /TABLE_NAME is required/],
    ['TABLE_NAME', { ...minimal, TABLE_NAME: '[object Object]' }, /TABLE_NAME must be a DynamoDB table name.*"\[object Object\]"/],
    ['TABLE_NAME', { ...minimal, TABLE_NAME: 'ab' }, /TABLE_NAME must be a DynamoDB table name/],
    ['BREAKER_TABLE_NAME', { ...minimal, BREAKER_TABLE_NAME: undefined }, /BREAKER_TABLE_NAME is required/],
    ['BREAKER_STORE', { ...minimal, BREAKER_STORE: 'memcached' }, /BREAKER_STORE must be one of dynamodb, redis, got "memcached"/],
    ['BREAKER_REDIS_URL', { ...minimal, BREAKER_STORE: 'redis' }, /BREAKER_REDIS_URL is required/],
    ['BREAKER_REDIS_URL', { ...minimal, BREAKER_STORE: 'redis', BREAKER_REDIS_URL: 'cache.example.com:6379' }, /BREAKER_REDIS_URL must use rediss:\/\/ \(TLS\)/],
    ['BREAKER_REDIS_URL', { ...minimal, BREAKER_STORE: 'redis', BREAKER_REDIS_URL: 'redis://cache.example.com:6379' }, /must use rediss:\/\/ \(TLS\), or redis:\/\/ to a server on this machine, got "redis:\/\/cache.example.com:6379"/],
    ['BREAKER_REDIS_URL', { ...minimal, BREAKER_STORE: 'redis', BREAKER_REDIS_URL: 'rediss://cache.example.com:6379/2?x=1' }, /no path, query or fragment/],
    ['BREAKER_REDIS_URL', { ...minimal, BREAKER_STORE: 'redis', BREAKER_REDIS_URL: 'not a url' }, /BREAKER_REDIS_URL must be a redis URL/],
    ['USER_DIRECTORY_URL', { ...minimal, USER_DIRECTORY_URL: undefined }, /USER_DIRECTORY_URL is required/],
    ['USER_DIRECTORY_URL', { ...minimal, USER_DIRECTORY_URL: 'localhost:4010' }, /USER_DIRECTORY_URL must use http or https/],
    ['USER_DIRECTORY_URL', { ...minimal, USER_DIRECTORY_URL: 'not a url' }, /USER_DIRECTORY_URL must be an absolute http\(s\) URL/],
    ['USER_DIRECTORY_URL', { ...minimal, USER_DIRECTORY_URL: 'ftp://example.com' }, /USER_DIRECTORY_URL must use http or https/],
    ['USER_DIRECTORY_URL', { ...minimal, USER_DIRECTORY_URL: 'http://example.com/?a=1' }, /must not carry a query/],
    ['DYNAMODB_ENDPOINT', { ...minimal, DYNAMODB_ENDPOINT: 'nope' }, /DYNAMODB_ENDPOINT must be an absolute/],
    ['BREAKER_TIMEOUT_MS', { ...minimal, BREAKER_TIMEOUT_MS: '2s' }, /BREAKER_TIMEOUT_MS must be a whole number, got "2s"/],
    ['BREAKER_FAILURE_THRESHOLD', { ...minimal, BREAKER_FAILURE_THRESHOLD: '-1' }, /BREAKER_FAILURE_THRESHOLD must be a whole number/],
    ['BREAKER_OPEN_MS', { ...minimal, BREAKER_OPEN_MS: '1.5' }, /BREAKER_OPEN_MS must be a whole number/],
    ['BREAKER_BACKOFF_MULTIPLIER', { ...minimal, BREAKER_BACKOFF_MULTIPLIER: 'x2' }, /BREAKER_BACKOFF_MULTIPLIER must be a non-negative number/],
    ['BREAKER_ON_STORE_ERROR', { ...minimal, BREAKER_ON_STORE_ERROR: 'ignore' }, /BREAKER_ON_STORE_ERROR must be "local", "allow" or "deny", got "ignore"/],
    ['USERS_TABLE_TIMEOUT_MS', { ...minimal, USERS_TABLE_TIMEOUT_MS: '0' }, /USERS_TABLE_TIMEOUT_MS must be a whole number of at least 1/],
    ['LOG_LEVEL', { ...minimal, LOG_LEVEL: 'LOUD' }, /LOG_LEVEL must be one of/],
  ])('names %s when it is wrong', (variable, env, message) => {
    const error = configError(env);
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(message);
  });
});

describe('the breaker store', () => {
  it('is Redis with BREAKER_STORE=redis: a TLS URL, or plain redis:// to this machine; no table needed', () => {
    const env = { ...minimal, BREAKER_TABLE_NAME: undefined, BREAKER_STORE: 'redis' };
    expect(loadConfig({ ...env, BREAKER_REDIS_URL: 'rediss://breaker-abc.serverless.use1.cache.amazonaws.com:6379' }).breakerStore).toEqual({
      kind: 'redis',
      url: 'rediss://breaker-abc.serverless.use1.cache.amazonaws.com:6379',
    });
    expect(loadConfig({ ...env, BREAKER_REDIS_URL: 'redis://127.0.0.1:6390' }).breakerStore).toEqual({ kind: 'redis', url: 'redis://127.0.0.1:6390' });
  });
});

describe('the time budget', () => {
  it('accepts the breaker defaults and the dev settings', () => {
    expect(worstCaseRequestMs(loadConfig(minimal))).toBe(2000 + 6 * 1 * 250 + 2 * 500);
    const dev = loadConfig({ ...minimal, BREAKER_TIMEOUT_MS: '2000', BREAKER_STORE_TIMEOUT_MS: '300', USERS_TABLE_TIMEOUT_MS: '500' });
    expect(worstCaseRequestMs(dev)).toBe(2000 + 6 * 300 + 2 * 500);
  });

  it('counts the slowest path: six store requests (a trial), each attempted storeMaxAttempts times', () => {
    // The old count (two requests) accepted this: 2000 + 2 x 2 x 250 + 1000 = 4000; the real worst is 6000.
    const error = configError({ ...minimal, BREAKER_STORE_MAX_ATTEMPTS: '2' });
    expect(error.variable).toBe('BREAKER_TIMEOUT_MS');
    expect(error.message).toMatch(/is 6000 ms, over the 5000 ms/);
  });

  it('rejects settings whose worst case would outlive the function, naming the variables and the sum', () => {
    const error = configError({ ...minimal, BREAKER_TIMEOUT_MS: '3000', USERS_TABLE_TIMEOUT_MS: '400' });
    expect(error.variable).toBe('BREAKER_TIMEOUT_MS');
    expect(error.message).toMatch(/BREAKER_TIMEOUT_MS \+ 6 x BREAKER_STORE_MAX_ATTEMPTS \(1\) x BREAKER_STORE_TIMEOUT_MS \+ 2 x USERS_TABLE_TIMEOUT_MS is 5300 ms, over the 5000 ms/);
  });

  it('counts the Users table budget twice', () => {
    expect(() => loadConfig({ ...minimal, BREAKER_TIMEOUT_MS: '500', USERS_TABLE_TIMEOUT_MS: '1501' })).toThrow(/is 5002 ms/);
  });
});

describe('the opening policy (BREAKER_POLICY) and ramp-up', () => {
  const rate = { ...minimal, BREAKER_POLICY: 'rate', BREAKER_FAILURE_RATE_THRESHOLD: '0.5', BREAKER_MINIMUM_CALLS: '20' };

  it('count is the default: rate, flush and ramp-up variables are checked but not given to the breaker (ramp-up off)', () => {
    const env = { ...minimal, BREAKER_FAILURE_THRESHOLD: '5', BREAKER_FAILURE_RATE_THRESHOLD: '0.5', BREAKER_MINIMUM_CALLS: '20', BREAKER_COUNT_FLUSH_MS: '20000', BREAKER_RAMP_UP_MS: '0', BREAKER_RAMP_UP_START_FRACTION: '0.1' };
    expect(loadConfig(env).breaker).toEqual({ ...SERVICE_BREAKER_DEFAULTS, name: 'user-directory', failureThreshold: 5 });
    expect(loadConfig({ ...env, BREAKER_POLICY: 'count' }).breaker).toEqual({ ...SERVICE_BREAKER_DEFAULTS, name: 'user-directory', failureThreshold: 5 });
  });

  it('count with ramp-up', () => {
    expect(loadConfig({ ...minimal, BREAKER_RAMP_UP_MS: '30000', BREAKER_RAMP_UP_START_FRACTION: '0.1' }).breaker).toEqual({
      ...SERVICE_BREAKER_DEFAULTS,
      name: 'user-directory',
      rampUpMs: 30000,
      rampUpStartFraction: 0.1,
    });
  });

  it('rate gives the rate options and leaves the failure count out', () => {
    const config = loadConfig({ ...rate, BREAKER_FAILURE_THRESHOLD: '10', BREAKER_COUNT_FLUSH_MS: '20000', BREAKER_RAMP_UP_MS: '30000', BREAKER_RAMP_UP_START_FRACTION: '.25' });
    expect(config.breaker).toEqual({
      ...SERVICE_BREAKER_DEFAULTS,
      name: 'user-directory',
      failureRateThreshold: 0.5,
      minimumCalls: 20,
      countFlushMs: 20000,
      rampUpMs: 30000,
      rampUpStartFraction: 0.25,
    });
    expect(loadConfig(rate).breaker).toEqual({ ...SERVICE_BREAKER_DEFAULTS, name: 'user-directory', failureRateThreshold: 0.5, minimumCalls: 20 });
    expect(loadConfig({ ...rate, BREAKER_FAILURE_RATE_THRESHOLD: '1' }).breaker.failureRateThreshold).toBe(1);
  });

  it.each([
    ['BREAKER_POLICY', { ...minimal, BREAKER_POLICY: 'ratio' }, /BREAKER_POLICY must be one of count, rate, got "ratio"/],
    ['BREAKER_POLICY', { ...minimal, BREAKER_POLICY: 'RATE' }, /BREAKER_POLICY must be one of count, rate, got "RATE"/],
    ['BREAKER_FAILURE_RATE_THRESHOLD', { ...rate, BREAKER_FAILURE_RATE_THRESHOLD: undefined }, /BREAKER_FAILURE_RATE_THRESHOLD is required when BREAKER_POLICY is "rate"/],
    ['BREAKER_MINIMUM_CALLS', { ...rate, BREAKER_MINIMUM_CALLS: ' ' }, /BREAKER_MINIMUM_CALLS is required when BREAKER_POLICY is "rate"/],
    ['BREAKER_FAILURE_RATE_THRESHOLD', { ...rate, BREAKER_FAILURE_RATE_THRESHOLD: '50' }, /BREAKER_FAILURE_RATE_THRESHOLD must be a fraction greater than 0 and at most 1 \(0.5 = 50 %\), got "50"/],
    ['BREAKER_FAILURE_RATE_THRESHOLD', { ...rate, BREAKER_FAILURE_RATE_THRESHOLD: '0' }, /must be a fraction/],
    ['BREAKER_FAILURE_RATE_THRESHOLD', { ...rate, BREAKER_FAILURE_RATE_THRESHOLD: '50%' }, /must be a fraction/],
    ['BREAKER_FAILURE_RATE_THRESHOLD', { ...rate, BREAKER_FAILURE_RATE_THRESHOLD: '1.0001' }, /must be a fraction/],
    ['BREAKER_FAILURE_RATE_THRESHOLD', { ...rate, BREAKER_FAILURE_RATE_THRESHOLD: '-0.5' }, /must be a fraction/],
    // Checked even under the count policy: a typo does not wait for the day the policy changes.
    ['BREAKER_FAILURE_RATE_THRESHOLD', { ...minimal, BREAKER_FAILURE_RATE_THRESHOLD: 'half' }, /must be a fraction/],
    ['BREAKER_MINIMUM_CALLS', { ...minimal, BREAKER_MINIMUM_CALLS: '0' }, /BREAKER_MINIMUM_CALLS must be a whole number of at least 1, got "0"/],
    ['BREAKER_COUNT_FLUSH_MS', { ...rate, BREAKER_COUNT_FLUSH_MS: '20s' }, /BREAKER_COUNT_FLUSH_MS must be a whole number, got "20s"/],
    ['BREAKER_RAMP_UP_MS', { ...minimal, BREAKER_RAMP_UP_MS: '-1' }, /BREAKER_RAMP_UP_MS must be a whole number/],
    ['BREAKER_RAMP_UP_START_FRACTION', { ...minimal, BREAKER_RAMP_UP_START_FRACTION: '10' }, /BREAKER_RAMP_UP_START_FRACTION must be a fraction/],
    ['BREAKER_FAILURE_THRESHOLD', { ...rate, BREAKER_FAILURE_THRESHOLD: 'ten' }, /BREAKER_FAILURE_THRESHOLD must be a whole number/],
  ])('names %s when it is wrong', (variable, env, message) => {
    const error = configError(env);
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(message);
  });
});
