/**
 * The compare scenario's store section: this project's breaker with its state in DynamoDB (dynalite) and in Redis
 * (a throwaway redis-server or valkey-server, when installed), side by side on the same healthy path, outage and
 * recovery. Per store: store requests per call (healthy), each store operation's latency p50/p99 (timed at the
 * breaker's store interface), calls reaching the dead downstream, time until every process rejects, store requests
 * during the outage, lost counts, trials in flight and time to close. Without a server binary the Redis entry says
 * so (`available: false`) and the rest of the bench runs as before.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { findRedisServerBinary, startRedisServer } from '../local/redisServer';
import type { RunningUserDirectoryStub } from '../local/userDirectoryStub';
import type { RunningDownstreamMeter } from './downstreamMeter';
import { measureCalls, type CallFigures } from './healthyPath';
import { runOutage, type OutageResult } from './outage/outageScenario';
import type { WorkerPool } from './outage/workerPool';
import type { LatencySummary } from './percentiles';
import { connectRedis, countRedisCommands } from './redisCounter';
import { countRequests, type RequestCounter } from './requestCounter';
import type { BenchSettings } from './settings';
import { STORE_OPERATIONS, summarizeSamples, timedStore, type StoreOperation, type StoreSamples } from './timedStore';
import { createGuard, type GuardHooks, type StoreKind } from './variants';

export interface StoreHealthyResult extends CallFigures {
  stateCacheMs: number;
  /** Store requests here are DynamoDB requests or Redis commands (dynamoRequestsPerCall keeps its name for both). */
  storeLatencyMs: Partial<Record<StoreOperation, LatencySummary>>;
}

export interface StoreRunResult {
  store: StoreKind;
  /** The server that ran, e.g. "dynalite 4.0.0", "redis-server 7.0.15", or "redis-server not installed". */
  server: string;
  available: boolean;
  unavailableReason?: string;
  healthy: StoreHealthyResult[];
  /** The outage and recovery with `timeStore`: storeLatencyMs is set; dynamoRequests* count Redis commands on Redis. */
  outage: OutageResult | null;
}

export interface StoreCompareContext {
  client: DynamoDBClient;
  tableName: string;
  dynamoEndpoint: string;
  dynaliteVersion: string;
  stub: RunningUserDirectoryStub;
  meter: RunningDownstreamMeter;
  pool: WorkerPool;
  log: (text: string) => void;
}

export const REDIS_MISSING = 'redis-server not installed';

export async function runStoreComparison(settings: BenchSettings, context: StoreCompareContext): Promise<StoreRunResult[]> {
  const results: StoreRunResult[] = [];
  const dynamoCounter = countRequests(context.client);
  try {
    results.push(await runStore('dynamodb', `dynalite ${context.dynaliteVersion}`, settings, context, dynamoCounter, {}));
  } finally {
    dynamoCounter.detach();
  }

  if (findRedisServerBinary() === undefined) {
    context.log(`stores: ${REDIS_MISSING} (apt-get install -y redis-server): the Redis column is skipped`);
    results.push({ store: 'redis', server: REDIS_MISSING, available: false, unavailableReason: REDIS_MISSING, healthy: [], outage: null });
    return results;
  }
  const server = await startRedisServer();
  try {
    const connection = await connectRedis(server.url);
    try {
      const info = String(await connection.sendCommand(['INFO', 'server']));
      const version = /(?:valkey|redis)_version:(\S+)/.exec(info)?.[1] ?? 'unknown version';
      const counted = countRedisCommands(connection);
      results.push(
        await runStore('redis', `${server.binary.split('/').pop() ?? 'redis-server'} ${version}`, settings, context, counted.counter, {
          redis: counted.client,
          outageRedis: { url: server.url, client: connection },
        }),
      );
    } finally {
      if (connection.isOpen) connection.destroy();
    }
  } finally {
    await server.stop();
  }
  return results;
}

async function runStore(
  store: StoreKind,
  serverName: string,
  settings: BenchSettings,
  context: StoreCompareContext,
  counter: RequestCounter,
  redis: { redis?: GuardHooks['redis']; outageRedis?: { url: string; client: NonNullable<GuardHooks['redis']> } },
): Promise<StoreRunResult> {
  context.log(`stores: ${serverName}: healthy path (${settings.healthy.calls} calls per stateCacheMs)`);
  const healthy: StoreHealthyResult[] = [];
  context.stub.setMode({ kind: 'up' }); // the previous outage's count check left it down
  for (const stateCacheMs of settings.healthy.stateCacheMs) {
    const samples: StoreSamples = {};
    const guard = createGuard(
      { kind: 'breaker', circuit: `stores-healthy-${store}-${stateCacheMs}`, settings: { ...settings.breaker, stateCacheMs }, store },
      context.client,
      context.tableName,
      { ...(redis.redis ? { redis: redis.redis } : {}), wrapStore: (inner) => timedStore(inner, samples) },
    );
    try {
      const figures = await measureCalls(guard, counter, context.stub.url, settings.healthy, () => {
        for (const operation of STORE_OPERATIONS) delete samples[operation]; // time the measured calls only
      });
      healthy.push({ stateCacheMs, ...figures, storeLatencyMs: summarizeSamples(samples) });
    } finally {
      guard.dispose();
    }
  }

  context.log(`stores: ${serverName}: outage and recovery (${settings.outage.processes} processes x ${settings.outage.callersPerProcess} callers)`);
  const outage = await runOutage(
    {
      pool: context.pool,
      stub: context.stub,
      meter: context.meter,
      dynamoEndpoint: context.dynamoEndpoint,
      client: context.client,
      tableName: context.tableName,
      timeStore: true,
      ...(redis.outageRedis ? { redis: redis.outageRedis } : {}),
    },
    { kind: 'breaker', circuit: `stores-outage-${store}`, settings: settings.breaker, store },
    { kind: 'breaker', circuit: `stores-count-${store}`, settings: settings.countCheckBreaker, store },
    settings.outage,
  );
  return { store, server: serverName, available: true, healthy, outage };
}
