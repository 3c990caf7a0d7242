/**
 * The objects one Lambda container keeps across invocations: SDK clients, the breaker, the logger, the use case.
 * Created lazily on the first request (so a bad configuration becomes a logged 500, not a crash loop) and then reused.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { CircuitBreaker, DynamoDBStateStore, RedisStateStore, type CircuitBreakerOptions, type StateStore } from '../breaker';
import { loadConfig, DEFAULT_SERVICE_NAME, type GetUserConfig } from '../config';
import { logBreakerEvent } from '../observability/breakerEventLog';
import { createLogger } from '../observability/logger';
import { createMetrics, recordBreakerEvent, type RequestMetrics } from '../observability/metrics';
import { createTracing, type Tracing } from '../observability/tracer';
import { countsAsDirectoryFailure, createDirectoryClient } from '../users/directoryClient';
import { createGetUser, type GetUser } from '../users/getUser';
import { createUsersRepository } from '../users/usersRepository';
import { createRedisConnection, type RedisConnection } from './redisConnection';

export interface Container {
  config: GetUserConfig;
  logger: Logger;
  metrics: RequestMetrics;
  breaker: CircuitBreaker;
  getUser: GetUser;
  /** Releases sockets (tests and local runs; Lambda just freezes the container). */
  destroy(): void;
}

/** Test and local-run seams: replace a part, keep the rest of the wiring real. */
export interface ContainerOverrides {
  logger?: Logger;
  metrics?: RequestMetrics;
  tracing?: Tracing;
  /** Client for the Users table. */
  usersClient?: DynamoDBClient;
  /** Client for the breaker's state table (e.g. one pointed at a port that never answers). */
  breakerClient?: DynamoDBClient;
  /** Replaces the DynamoDB state store altogether (e.g. a MemoryStateStore). */
  breakerStore?: StateStore;
  /** Breaker options on top of the configured ones (e.g. an injected `now`). */
  breakerOptions?: Partial<CircuitBreakerOptions>;
  fetch?: typeof fetch;
  now?: () => number;
}

export function createContainer(config: GetUserConfig, overrides: ContainerOverrides = {}): Container {
  const logger = overrides.logger ?? createLogger(config);
  const metrics = overrides.metrics ?? createMetrics({ serviceName: config.serviceName, circuit: config.breaker.name });
  const tracing = overrides.tracing ?? createTracing(config.serviceName);
  const now = overrides.now ?? Date.now;
  const ownClients: DynamoDBClient[] = [];
  const client = (given: DynamoDBClient | undefined, extra: DynamoDBClientConfig = {}): DynamoDBClient => {
    if (given) return given;
    const created = tracing.captureAWSv3Client(new DynamoDBClient({ ...dynamoDBClientConfig(config), ...extra }));
    ownClients.push(created);
    return created;
  };

  let redis: RedisConnection | undefined;
  const storeFor = (storeConfig: GetUserConfig['breakerStore']): StateStore => {
    if (storeConfig.kind === 'redis') {
      redis = createRedisConnection(storeConfig.url, logger);
      return new RedisStateStore({ client: redis });
    }
    return new DynamoDBStateStore({
      tableName: storeConfig.tableName,
      // The breaker retries within its own budget (storeTimeoutMs x storeMaxAttempts); SDK retries would hide inside it.
      client: client(overrides.breakerClient, { maxAttempts: 1 }),
    });
  };
  const store = overrides.breakerStore ?? storeFor(config.breakerStore);
  const breaker = new CircuitBreaker({
    ...config.breaker,
    store,
    isFailure: countsAsDirectoryFailure,
    now,
    ...overrides.breakerOptions,
  });
  breaker.onEvent((event) => logBreakerEvent(logger, event));
  breaker.onEvent((event) => recordBreakerEvent(metrics, event));

  const getUser = createGetUser({
    circuit: config.breaker.name,
    breaker,
    directory: createDirectoryClient({ baseUrl: config.userDirectoryUrl, ...(overrides.fetch ? { fetch: overrides.fetch } : {}) }),
    users: createUsersRepository({
      client: client(overrides.usersClient),
      tableName: config.usersTableName,
      timeoutMs: config.usersTableTimeoutMs,
      logger,
    }),
    tracing,
    now,
  });

  const destroy = () => {
    ownClients.forEach((created) => created.destroy());
    redis?.destroy();
  };
  return { config, logger, metrics, breaker, getUser, destroy };
}

/** In AWS the SDK finds region and credentials itself; locally DYNAMODB_ENDPOINT points at dynalite, which takes any. */
function dynamoDBClientConfig(config: GetUserConfig): DynamoDBClientConfig {
  if (config.dynamodbEndpoint === undefined) return {};
  return {
    endpoint: config.dynamodbEndpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
}

let current: Container | undefined;

/** The container of this Lambda execution environment, created on first use. */
export function getContainer(): Container {
  current ??= createContainer(loadConfig());
  return current;
}

/** Logs a request when the container could not be built (its configuration is invalid). */
export const fallbackLogger: Logger = createLogger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME || DEFAULT_SERVICE_NAME, logLevel: 'INFO' });

let failureMetrics: RequestMetrics | undefined;

/**
 * Counts 500 answers when the container could not be built: the dimensions come straight from the environment
 * serverless.yml sets (POWERTOOLS_SERVICE_NAME, BREAKER_NAME), so the alarm on InternalErrorAnswers sees them.
 */
export function fallbackMetrics(): RequestMetrics {
  failureMetrics ??= createMetrics({
    serviceName: process.env.POWERTOOLS_SERVICE_NAME || DEFAULT_SERVICE_NAME,
    circuit: process.env.BREAKER_NAME || 'unknown',
  });
  return failureMetrics;
}
