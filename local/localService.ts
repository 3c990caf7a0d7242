/**
 * The whole service on this machine, no AWS account: dynalite with serverless.yml's tables, the user-directory stub,
 * and serverless-offline running the real GetUser handler. Used by `npm start` (local/start.ts), the integration
 * tests and the demo (which overrides some serverless.yml params, see `params`).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynalite, type RunningDynalite } from './dynalite';
import { freePort } from './freePort';
import { startRedisServer } from './redisServer';
import { startServerlessOffline, type RunningServerlessOffline } from './serverlessOffline';
import { createTables, readTablesFromServerlessYml } from './tablesFromServerlessYml';
import { startUserDirectoryStub, type RunningUserDirectoryStub } from './userDirectoryStub';

export interface LocalServiceOptions {
  /** Port of the API; 0 picks a free one. Default 3000. */
  port?: number;
  /** Port of the user-directory stub; 0 picks a free one. Default 4010. */
  directoryPort?: number;
  /** Port of serverless-offline's Lambda invoke endpoint; 0 (the default) picks a free one. */
  lambdaPort?: number;
  /** Keep DynamoDB data in this directory across runs; in memory when absent. */
  dataDir?: string;
  /** The serverless.yml stage whose table names and params are used. Default dev. */
  stage?: string;
  /**
   * Overrides of that stage's serverless.yml `params`, as `--param="name=value"` would on the command line, e.g.
   * `{ breakerOpenMs: '2000' }` for a shorter open period. `userDirectoryUrl` is not among them: it is always the
   * stub's URL. None by default (what `npm start` runs).
   */
  params?: Record<string, string>;
  /**
   * Where the breaker's state lives: dynamodb (a table in dynalite, the default) or redis (a redis-server this
   * starts on a free port; it must be installed). Sets serverless.yml's breakerStore param.
   */
  store?: 'dynamodb' | 'redis';
  /** serverless-offline's output: request log and handler logs. */
  onOutput?: (text: string) => void;
  /** Aborting while starting stops whatever was started and rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface RunningLocalService {
  /** e.g. http://127.0.0.1:3000 */
  apiUrl: string;
  directoryUrl: string;
  dynamoEndpoint: string;
  /** The breaker's store, and with redis the server's URL (e.g. redis://127.0.0.1:41234). */
  store: 'dynamodb' | 'redis';
  redisUrl?: string;
  /** The stub itself, to switch its mode from code. */
  directory: RunningUserDirectoryStub;
  /** Table names by serverless.yml logical id, e.g. { Users: 'simple-web-service-dev-users', ... }. */
  tables: Record<string, string>;
  /** serverless-offline's process (group) id. */
  offlinePid: number;
  /** Resolves when serverless-offline exits: after stop(), or on its own if it crashes. */
  offlineExited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Stops everything started, in reverse order. Safe to call more than once. */
  stop(): Promise<void>;
}

export async function startLocalService(options: LocalServiceOptions = {}): Promise<RunningLocalService> {
  const stage = options.stage ?? 'dev';
  if (options.params && 'userDirectoryUrl' in options.params) {
    throw new Error('startLocalService: params.userDirectoryUrl cannot be overridden; the local run always points the handler at the stub');
  }
  const stops: Array<() => Promise<void>> = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const stopOne of stops.reverse()) await stopOne();
    })();
    return stopping;
  };

  try {
    const tables = readTablesFromServerlessYml({ stage });
    const dynamo: RunningDynalite = await startDynalite(options.dataDir ? { path: options.dataDir } : {});
    stops.push(dynamo.stop);
    const client = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      await createTables(client, tables);
    } finally {
      client.destroy();
    }

    const store = options.store ?? 'dynamodb';
    let redisUrl: string | undefined;
    if (store === 'redis') {
      options.signal?.throwIfAborted();
      const redis = await startRedisServer();
      stops.push(redis.stop);
      redisUrl = redis.url;
    }

    options.signal?.throwIfAborted();
    const directory = await startUserDirectoryStub({ port: options.directoryPort ?? 4010 });
    stops.push(directory.stop);

    options.signal?.throwIfAborted();
    const offline: RunningServerlessOffline = await startServerlessOffline({
      stage,
      httpPort: await portOrFree(options.port ?? 3000),
      lambdaPort: await portOrFree(options.lambdaPort ?? 0),
      params: { ...options.params, userDirectoryUrl: directory.url, ...(redisUrl ? { breakerStore: 'redis', breakerRedisUrl: redisUrl } : {}) },
      env: {
        DYNAMODB_ENDPOINT: dynamo.endpoint,
        // The handler signs requests to dynalite; dynalite accepts any credentials.
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        // There is no X-Ray daemon or segment here; without this the X-Ray SDK logs an error per call.
        AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
      },
      onOutput: options.onOutput,
      signal: options.signal,
    });
    stops.push(offline.stop);

    return {
      apiUrl: offline.url,
      directoryUrl: directory.url,
      dynamoEndpoint: dynamo.endpoint,
      store,
      ...(redisUrl ? { redisUrl } : {}),
      directory,
      tables: Object.fromEntries(tables.map((table) => [table.logicalId, table.input.TableName as string])),
      offlinePid: offline.pid,
      offlineExited: offline.exited,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function portOrFree(port: number): Promise<number> {
  return port === 0 ? freePort() : port;
}
