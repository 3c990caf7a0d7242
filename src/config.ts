/**
 * The GetUser function's environment, parsed and validated once per container.
 * Every problem names the variable at fault. Breaker options are only checked for type here; their ranges are
 * the breaker's business (it validates them again when constructed, with its own error naming the option), and the
 * breaker table's name is the store's (DynamoDBStateStore checks it). Fractions are the exception: one written as a
 * percentage (50 for 0.5) is caught here, naming the variable.
 */
import { BREAKER_DEFAULTS } from './breaker';

/** The breaker options that come from the environment (unset ones fall back to the breaker's defaults). */
export interface BreakerEnvOptions {
  name: string;
  failureThreshold?: number;
  windowMs?: number;
  timeoutMs?: number;
  slowCallMs?: number;
  openMs?: number;
  maxOpenMs?: number;
  backoffMultiplier?: number;
  halfOpenMaxCalls?: number;
  halfOpenSuccessThreshold?: number;
  permitLeaseMarginMs?: number;
  stateCacheMs?: number;
  closedStateCacheMs?: number;
  storeTimeoutMs?: number;
  storeMaxAttempts?: number;
  onStoreError?: 'allow' | 'deny' | 'local';
  /** Rate policy only (BREAKER_POLICY=rate): the breaker uses a FailureRatePolicy when these two are given. */
  failureRateThreshold?: number;
  minimumCalls?: number;
  /** Rate policy only: how long an instance holds counted successes before flushing them. */
  countFlushMs?: number;
  /** Given only when BREAKER_RAMP_UP_MS > 0 (0 = no ramp-up, the breaker's default). */
  rampUpMs?: number;
  rampUpStartFraction?: number;
}

/** Which opening policy BREAKER_POLICY selects: `count` (failures in the window) or `rate` (failure rate over minimum calls). */
export const BREAKER_POLICIES = ['count', 'rate'] as const;
export type BreakerPolicyName = (typeof BREAKER_POLICIES)[number];

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

/**
 * Where the breaker's shared state lives (BREAKER_STORE): a DynamoDB table (BREAKER_TABLE_NAME), or a Redis/Valkey
 * server (BREAKER_REDIS_URL, `rediss://host:port`; plain `redis://` only to a server on this machine).
 */
export type BreakerStoreConfig = { kind: 'dynamodb'; tableName: string } | { kind: 'redis'; url: string };
export const BREAKER_STORES = ['dynamodb', 'redis'] as const;

export interface GetUserConfig {
  usersTableName: string;
  breakerStore: BreakerStoreConfig;
  /** Base URL of the user directory without a trailing slash, e.g. http://127.0.0.1:4010 */
  userDirectoryUrl: string;
  breaker: BreakerEnvOptions;
  /** Budget for one Users table read or write, in ms. */
  usersTableTimeoutMs: number;
  /** Local runs only: where DynamoDB lives (absent in AWS). */
  dynamodbEndpoint?: string;
  logLevel: LogLevelName;
  serviceName: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    /** The environment variable at fault. */
    readonly variable: string,
    message: string,
  ) {
    super(`invalid configuration: ${variable} ${message}`);
  }
}

export const DEFAULT_USERS_TABLE_TIMEOUT_MS = 500;
/** The function's 6 s timeout minus a second for cold start, logging and the response. */
export const REQUEST_BUDGET_MS = 5000;
/**
 * Breaker store requests on one request's slowest path: a trial reads the state, races for a permit (up to three
 * conditional writes), then records its success and closes the circuit. (A closed call's worst is five: the refresh
 * (a read, or under the rate policy the flush write that returns the item; what follows that write runs beside the
 * call), then count, repair, count again, open. A failure whose count waits behind another count write in flight
 * waits at most those four requests' budget: see src/breaker/CountRecorder.ts.)
 */
export const WORST_CASE_STORE_REQUESTS = 6;
/**
 * The service's defaults where the breaker's own would not fit the request budget: one attempt per store request
 * (six requests x two attempts x 250 ms would take 3 s) and a 2 s call timeout.
 */
export const SERVICE_BREAKER_DEFAULTS = { timeoutMs: 2_000, storeMaxAttempts: 1 } as const;
export const DEFAULT_BREAKER_NAME = 'user-directory';
export const DEFAULT_SERVICE_NAME = 'simple-web-service';

type Env = Record<string, string | undefined>;

/** Parses and validates the GetUser environment; throws a ConfigError naming the first variable at fault. */
export function loadConfig(env: Env = process.env): GetUserConfig {
  const dynamodbEndpoint = optionalHttpUrl(env, 'DYNAMODB_ENDPOINT');
  const config: GetUserConfig = {
    usersTableName: tableName(env, 'TABLE_NAME'),
    breakerStore: breakerStore(env),
    userDirectoryUrl: requiredHttpUrl(env, 'USER_DIRECTORY_URL').replace(/\/+$/, ''),
    breaker: breakerOptions(env),
    usersTableTimeoutMs: optionalInteger(env, 'USERS_TABLE_TIMEOUT_MS', 1) ?? DEFAULT_USERS_TABLE_TIMEOUT_MS,
    ...(dynamodbEndpoint === undefined ? {} : { dynamodbEndpoint }),
    logLevel: logLevel(env),
    serviceName: optionalString(env, 'POWERTOOLS_SERVICE_NAME') ?? DEFAULT_SERVICE_NAME,
  };
  checkTimeBudget(config);
  return config;
}

/**
 * The slowest request waits for the directory call, the breaker's store requests on its slowest path (each may be
 * attempted storeMaxAttempts times) and one Users table call (counted twice for margin). That must fit the
 * function's timeout, or Lambda kills a request that the code would still have answered.
 */
export function worstCaseRequestMs(config: Pick<GetUserConfig, 'breaker' | 'usersTableTimeoutMs'>): number {
  const callTimeoutMs = config.breaker.timeoutMs ?? BREAKER_DEFAULTS.timeoutMs;
  const storeTimeoutMs = config.breaker.storeTimeoutMs ?? BREAKER_DEFAULTS.storeTimeoutMs;
  const storeAttempts = WORST_CASE_STORE_REQUESTS * (config.breaker.storeMaxAttempts ?? BREAKER_DEFAULTS.storeMaxAttempts);
  return callTimeoutMs + storeTimeoutMs * storeAttempts + config.usersTableTimeoutMs * 2;
}

function checkTimeBudget(config: GetUserConfig): void {
  const worstCase = worstCaseRequestMs(config);
  if (worstCase > REQUEST_BUDGET_MS) {
    const attempts = config.breaker.storeMaxAttempts ?? BREAKER_DEFAULTS.storeMaxAttempts;
    throw new ConfigError(
      'BREAKER_TIMEOUT_MS',
      `+ ${WORST_CASE_STORE_REQUESTS} x BREAKER_STORE_MAX_ATTEMPTS (${attempts}) x BREAKER_STORE_TIMEOUT_MS + 2 x USERS_TABLE_TIMEOUT_MS ` +
        `is ${worstCase} ms, over the ${REQUEST_BUDGET_MS} ms a request may take (the function times out at 6 s); lower them`,
    );
  }
}

function breakerOptions(env: Env): BreakerEnvOptions {
  const integers = {
    failureThreshold: 'BREAKER_FAILURE_THRESHOLD',
    windowMs: 'BREAKER_WINDOW_MS',
    timeoutMs: 'BREAKER_TIMEOUT_MS',
    slowCallMs: 'BREAKER_SLOW_CALL_MS',
    openMs: 'BREAKER_OPEN_MS',
    maxOpenMs: 'BREAKER_MAX_OPEN_MS',
    halfOpenMaxCalls: 'BREAKER_HALF_OPEN_MAX_CALLS',
    halfOpenSuccessThreshold: 'BREAKER_HALF_OPEN_SUCCESS_THRESHOLD',
    permitLeaseMarginMs: 'BREAKER_PERMIT_LEASE_MARGIN_MS',
    stateCacheMs: 'BREAKER_STATE_CACHE_MS',
    closedStateCacheMs: 'BREAKER_CLOSED_STATE_CACHE_MS',
    storeTimeoutMs: 'BREAKER_STORE_TIMEOUT_MS',
    storeMaxAttempts: 'BREAKER_STORE_MAX_ATTEMPTS',
  } as const;
  const options: BreakerEnvOptions = { name: optionalString(env, 'BREAKER_NAME') ?? DEFAULT_BREAKER_NAME, ...SERVICE_BREAKER_DEFAULTS };
  for (const [option, variable] of Object.entries(integers) as [keyof typeof integers, string][]) {
    const value = optionalInteger(env, variable, 0);
    if (value !== undefined) options[option] = value;
  }
  const multiplier = optionalNumber(env, 'BREAKER_BACKOFF_MULTIPLIER');
  if (multiplier !== undefined) options.backoffMultiplier = multiplier;
  const onStoreError = optionalString(env, 'BREAKER_ON_STORE_ERROR');
  if (onStoreError !== undefined) {
    if (onStoreError !== 'allow' && onStoreError !== 'deny' && onStoreError !== 'local') {
      throw new ConfigError('BREAKER_ON_STORE_ERROR', `must be "local", "allow" or "deny", got "${onStoreError}"`);
    }
    options.onStoreError = onStoreError;
  }
  const { policy, policyOptions: chosen } = policyOptions(env);
  // The rate policy replaces the failure count: BREAKER_FAILURE_THRESHOLD (still checked above) is not given to it.
  const { failureThreshold, ...rest } = options;
  return { ...(policy === 'count' && failureThreshold !== undefined ? { failureThreshold } : {}), ...rest, ...chosen };
}

/**
 * BREAKER_POLICY picks the opening policy; every policy variable that is set is checked whichever policy is chosen
 * (a typo never waits for the day the policy changes), but only the chosen policy's are given to the breaker, so
 * one stage's params can carry both sets. `count` (the default) uses BREAKER_FAILURE_THRESHOLD; `rate` needs
 * BREAKER_FAILURE_RATE_THRESHOLD and BREAKER_MINIMUM_CALLS and uses BREAKER_COUNT_FLUSH_MS. Ramp-up
 * (BREAKER_RAMP_UP_MS > 0, BREAKER_RAMP_UP_START_FRACTION) works with either.
 */
function policyOptions(env: Env): { policy: BreakerPolicyName; policyOptions: Partial<BreakerEnvOptions> } {
  const named = optionalString(env, 'BREAKER_POLICY') ?? 'count';
  const policy = BREAKER_POLICIES.find((candidate) => candidate === named);
  if (policy === undefined) throw new ConfigError('BREAKER_POLICY', `must be one of ${BREAKER_POLICIES.join(', ')}, got "${named}"`);
  const failureRateThreshold = optionalFraction(env, 'BREAKER_FAILURE_RATE_THRESHOLD');
  const minimumCalls = optionalInteger(env, 'BREAKER_MINIMUM_CALLS', 1);
  const countFlushMs = optionalInteger(env, 'BREAKER_COUNT_FLUSH_MS', 0);
  const rampUpMs = optionalInteger(env, 'BREAKER_RAMP_UP_MS', 0);
  const rampUpStartFraction = optionalFraction(env, 'BREAKER_RAMP_UP_START_FRACTION');
  const rampUp = rampUpMs !== undefined && rampUpMs > 0 ? { rampUpMs, ...(rampUpStartFraction === undefined ? {} : { rampUpStartFraction }) } : {};
  if (policy === 'count') return { policy, policyOptions: rampUp };
  if (failureRateThreshold === undefined) throw new ConfigError('BREAKER_FAILURE_RATE_THRESHOLD', 'is required when BREAKER_POLICY is "rate"');
  if (minimumCalls === undefined) throw new ConfigError('BREAKER_MINIMUM_CALLS', 'is required when BREAKER_POLICY is "rate"');
  return { policy, policyOptions: { failureRateThreshold, minimumCalls, ...(countFlushMs === undefined ? {} : { countFlushMs }), ...rampUp } };
}

function breakerStore(env: Env): BreakerStoreConfig {
  const kind = optionalString(env, 'BREAKER_STORE') ?? 'dynamodb';
  if (kind === 'dynamodb') return { kind, tableName: requiredString(env, 'BREAKER_TABLE_NAME') }; // DynamoDBStateStore validates it
  if (kind === 'redis') return { kind, url: redisUrl(env, 'BREAKER_REDIS_URL') };
  throw new ConfigError('BREAKER_STORE', `must be one of ${BREAKER_STORES.join(', ')}, got "${kind}"`);
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function redisUrl(env: Env, variable: string): string {
  const value = requiredString(env, variable);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(variable, `must be a redis URL such as rediss://host:6379, got "${value}"`);
  }
  if (url.protocol !== 'rediss:' && !(url.protocol === 'redis:' && LOCAL_HOSTS.has(url.hostname))) {
    throw new ConfigError(variable, `must use rediss:// (TLS), or redis:// to a server on this machine, got "${url.protocol}//${url.host}"`);
  }
  if (url.hostname === '' || (url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    throw new ConfigError(variable, `must be rediss://host:port with no path, query or fragment, got "${value}"`);
  }
  return value;
}

function optionalString(env: Env, variable: string): string | undefined {
  const value = env[variable]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function requiredString(env: Env, variable: string): string {
  const value = optionalString(env, variable);
  if (value === undefined) throw new ConfigError(variable, 'is required but not set');
  return value;
}

function tableName(env: Env, variable: string): string {
  const value = requiredString(env, variable);
  // DynamoDB's own rule; serverless-offline turns an unresolved `!Ref` into "[object Object]", which this catches.
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(value)) {
    throw new ConfigError(variable, `must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -), got "${value}"`);
  }
  return value;
}

function requiredHttpUrl(env: Env, variable: string): string {
  return httpUrl(variable, requiredString(env, variable));
}

function optionalHttpUrl(env: Env, variable: string): string | undefined {
  const value = optionalString(env, variable);
  return value === undefined ? undefined : httpUrl(variable, value);
}

function httpUrl(variable: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(variable, `must be an absolute http(s) URL, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(variable, `must use http or https, got "${url.protocol}"`);
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new ConfigError(variable, 'must not carry a query, fragment or credentials');
  }
  return value;
}

function optionalInteger(env: Env, variable: string, min: number): number | undefined {
  const value = optionalString(env, variable);
  if (value === undefined) return undefined;
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min) {
    throw new ConfigError(variable, `must be a whole number${min > 0 ? ` of at least ${min}` : ''}, got "${value}"`);
  }
  return parsed;
}

function optionalNumber(env: Env, variable: string): number | undefined {
  const value = optionalString(env, variable);
  if (value === undefined) return undefined;
  const parsed = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(parsed)) throw new ConfigError(variable, `must be a non-negative number, got "${value}"`);
  return parsed;
}

/** A fraction in (0, 1], written as a decimal (0.5 = 50 %). */
function optionalFraction(env: Env, variable: string): number | undefined {
  const value = optionalString(env, variable);
  if (value === undefined) return undefined;
  const parsed = /^\d*\.?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(parsed > 0 && parsed <= 1)) throw new ConfigError(variable, `must be a fraction greater than 0 and at most 1 (0.5 = 50 %), got "${value}"`);
  return parsed;
}

function logLevel(env: Env): LogLevelName {
  const value = (optionalString(env, 'LOG_LEVEL') ?? 'INFO').toUpperCase();
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
  }
  return value as LogLevelName;
}
