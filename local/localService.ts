/**
 * The whole service on this machine, no AWS account: dynalite with serverless.yml's tables, the user-directory stub
 * (or a directory of your own, `userDirectoryUrl`), and serverless-offline running the real GetUser handler. Used by
 * `npm start` (local/start.ts), the integration tests and the demo (which overrides some serverless.yml params).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynalite, type RunningDynalite } from './dynalite';
import { freePort } from './freePort';
import { startRedisServer } from './redisServer';
import { startServerlessOffline, type RunningServerlessOffline } from './serverlessOffline';
import { readServerlessConfig } from '../tools/serverless-config/serverlessConfig';
import { createTables, readTablesFromServerlessYml } from '../tools/serverless-config/tablesFromServerlessYml';
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
   * A user directory of your own (http or https, no trailing path needed), called as GET {url}/users/{id}; the stub
   * is then not started. Default: the stub.
   */
  userDirectoryUrl?: string;
  /**
   * Overrides of that stage's serverless.yml `params`, as `--param="name=value"` would on the command line, e.g.
   * `{ breakerOpenMs: '2000' }` for a shorter open period. `userDirectoryUrl` is not among them: use the option of
   * that name. None by default (what `npm start` runs).
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
  /**
   * serverless-offline's Lambda invoke endpoint for GetUser (POST an API Gateway v2 event), on the Lambda port with the
   * function's full name, e.g. http://127.0.0.1:3002/2015-03-31/functions/simple-web-service-dev-GetUser/invocations
   */
  lambdaInvokeUrl: string;
  /** The directory the handler calls: the stub's URL, or the `userDirectoryUrl` given. */
  directoryUrl: string;
  dynamoEndpoint: string;
  /** The breaker's store, and with redis the server's URL (e.g. redis://127.0.0.1:41234). */
  store: 'dynamodb' | 'redis';
  redisUrl?: string;
  /** The stub itself, to switch its mode from code; absent when a `userDirectoryUrl` was given. */
  directory?: RunningUserDirectoryStub;
  /** Table names by serverless.yml logical id, e.g. { Users: 'simple-web-service-dev-users', ... }. */
  tables: Record<string, string>;
  /** serverless-offline's process (group) id. */
  offlinePid: number;
  /** Resolves when serverless-offline exits: after stop(), or on its own if it crashes. */
  offlineExited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Stops everything started, in reverse order. Safe to call more than once. */
  stop(): Promise<void>;
}

/** A run with the stub: `directory` is there. */
export type RunningLocalServiceWithStub = RunningLocalService & { directory: RunningUserDirectoryStub };

/** The stub's run: `directory` is there. */
export function startLocalService(options?: LocalServiceOptions & { userDirectoryUrl?: undefined }): Promise<RunningLocalServiceWithStub>;
export function startLocalService(options: LocalServiceOptions): Promise<RunningLocalService>;
export async function startLocalService(options: LocalServiceOptions = {}): Promise<RunningLocalService> {
  const stage = options.stage ?? 'dev';
  if (options.params && 'userDirectoryUrl' in options.params) {
    throw new Error('startLocalService: params.userDirectoryUrl cannot be overridden; pass the userDirectoryUrl option (npm start: USER_DIRECTORY_URL)');
  }
  if (options.userDirectoryUrl !== undefined) checkDirectoryUrl(options.userDirectoryUrl);
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
    let directory: RunningUserDirectoryStub | undefined;
    if (options.userDirectoryUrl === undefined) {
      directory = await startUserDirectoryStub({ port: options.directoryPort ?? 4010 });
      stops.push(directory.stop);
    }
    const directoryUrl = options.userDirectoryUrl?.replace(/\/+$/, '') ?? (directory as RunningUserDirectoryStub).url;

    options.signal?.throwIfAborted();
    // A free port is found by listening on port 0 and closing it, and serverless-offline binds it moments later: a
    // server started in between (another test suite, on a busy machine) can take it. Only ports we picked ourselves
    // are picked again; a port the user named is theirs to free.
    const picksOwnPorts = (options.lambdaPort ?? 0) === 0 && (options.port ?? 3000) === 0;
    let lambdaPort = 0;
    const startOffline = async (): Promise<RunningServerlessOffline> => {
      lambdaPort = await portOrFree(options.lambdaPort ?? 0);
      return startServerlessOffline({
        stage,
        httpPort: await portOrFree(options.port ?? 3000),
        lambdaPort,
        params: { ...options.params, userDirectoryUrl: directoryUrl, ...(redisUrl ? { breakerStore: 'redis', breakerRedisUrl: redisUrl } : {}) },
        env: {
          // The AWS SDK's documented switch for its Node-version notice; local runs only, never the deployed function.
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
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
    };
    let offline: RunningServerlessOffline | undefined;
    for (let attempt = 1; offline === undefined; attempt++) {
      try {
        offline = await startOffline();
      } catch (error) {
        const portTaken = /EADDRINUSE/.test((error as Error)?.message ?? '');
        if (!picksOwnPorts || !portTaken || attempt >= PORT_ATTEMPTS) throw error;
      }
    }
    stops.push(offline.stop);

    return {
      apiUrl: offline.url,
      lambdaInvokeUrl: `http://127.0.0.1:${lambdaPort}/2015-03-31/functions/${functionName(stage)}/invocations`,
      directoryUrl,
      dynamoEndpoint: dynamo.endpoint,
      store,
      ...(redisUrl ? { redisUrl } : {}),
      ...(directory ? { directory } : {}),
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

/** GetUser's deployed name, which serverless-offline's Lambda endpoint expects: <service>-<stage>-GetUser. */
function functionName(stage: string): string {
  return `${readServerlessConfig().service}-${stage}-GetUser`;
}

function checkDirectoryUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`the user directory URL must be an absolute http(s) URL, got "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`the user directory URL must use http or https, got "${parsed.protocol}"`);
  }
  if (parsed.search !== '' || parsed.hash !== '' || parsed.username !== '' || parsed.password !== '') {
    throw new Error('the user directory URL must not carry a query, fragment or credentials');
  }
}

/** serverless-offline starts this many times at most when a port it was given is taken before it binds it. */
const PORT_ATTEMPTS = 3;

async function portOrFree(port: number): Promise<number> {
  return port === 0 ? freePort() : port;
}
