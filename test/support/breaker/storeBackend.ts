/**
 * The state stores the shared suites run on, behind one shape: memory, DynamoDB (dynalite, or DynamoDB Local with
 * DYNAMODB_BACKEND=dynamodb-local) and Redis (a real redis-server/valkey-server). The concurrency suites
 * (sharedState, multiProcess) pick theirs with STATE_STORE_BACKEND=dynamodb (default) | redis, which
 * `npm run test:redis` sets.
 */
import { PutItemCommand, DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { createClient } from '@redis/client';
import { DynamoDBStateStore, MemoryStateStore, RedisStateStore, type StateStore } from '../../../src/breaker';
import { encodeField } from '../../../src/breaker/store/redisItem';
import { startTestRedis } from '../redisServer';
import { clientFor, startBreakerTable } from './breakerTable';

export type StoreBackendName = 'memory' | 'dynamodb' | 'redis';

/** What a worker process needs to reach the same store (sent over IPC). */
export type StoreTarget = { kind: 'dynamodb'; endpoint: string; tableName: string } | { kind: 'redis'; url: string; keyPrefix: string };

export interface StoreBackend {
  /** memory | dynalite | dynamodb-local | redis */
  label: string;
  /** A store on its own client/connection, as another container would have. */
  newStore(): Promise<StateStore>;
  /** Replace a circuit's item wholesale with these native attribute values (undefined: delete it). */
  putRaw(circuit: string, raw: Record<string, unknown> | undefined): Promise<void>;
  /** For worker processes; undefined for memory. */
  target?: StoreTarget;
  /** Redis only: when the server will delete the item (epoch ms), or null when it never will. */
  serverExpiry?(circuit: string): Promise<number | null>;
  stop(): Promise<void>;
}

export function storeBackendName(env: NodeJS.ProcessEnv = process.env): 'dynamodb' | 'redis' {
  const value = env.STATE_STORE_BACKEND ?? 'dynamodb';
  if (value !== 'dynamodb' && value !== 'redis') throw new Error(`STATE_STORE_BACKEND must be "dynamodb" or "redis", got "${value}"`);
  return value;
}

export async function startStoreBackend(name: StoreBackendName = storeBackendName()): Promise<StoreBackend> {
  if (name === 'memory') {
    const store = new MemoryStateStore();
    return {
      label: 'memory',
      // One process, one map: every "instance" shares it, as containers share the table.
      newStore: async () => store,
      putRaw: async (circuit, raw) => store.putRawItem(circuit, raw),
      stop: async () => undefined,
    };
  }
  if (name === 'dynamodb') {
    const table = await startBreakerTable();
    const admin = table.newClient();
    return {
      label: table.backend.name,
      newStore: async () => new DynamoDBStateStore({ tableName: table.tableName, client: table.newClient() }),
      putRaw: async (circuit, raw) => {
        if (raw === undefined) await admin.send(new DeleteItemCommand({ TableName: table.tableName, Key: { id: { S: circuit } } }));
        else await admin.send(new PutItemCommand({ TableName: table.tableName, Item: marshall({ ...raw, id: circuit }) }));
      },
      target: { kind: 'dynamodb', endpoint: table.endpoint, tableName: table.tableName },
      stop: () => table.stop(),
    };
  }
  const redis = await startTestRedis();
  const admin = await redis.newClient();
  const keyPrefix = 'test-breaker:';
  const key = (circuit: string) => `${keyPrefix}${circuit}`;
  return {
    label: 'redis',
    newStore: async () => new RedisStateStore({ client: await redis.newClient(), keyPrefix }),
    putRaw: async (circuit, raw) => {
      await admin.sendCommand(['DEL', key(circuit)]);
      if (raw === undefined || Object.keys(raw).length === 0) return;
      await admin.sendCommand(['HSET', key(circuit), ...Object.entries(raw).flatMap(([name, value]) => [name, encodeField(value)])]);
    },
    target: { kind: 'redis', url: redis.url, keyPrefix },
    serverExpiry: async (circuit) => {
      const at = Number(await admin.sendCommand(['PEXPIRETIME', key(circuit)]));
      return at < 0 ? null : at;
    },
    stop: () => redis.stop(),
  };
}

/** A store for a worker process from its target, and how to close its connection. */
export async function storeFromTarget(target: StoreTarget): Promise<{ store: StateStore; close(): void }> {
  if (target.kind === 'dynamodb') {
    const client = clientFor(target.endpoint);
    return { store: new DynamoDBStateStore({ tableName: target.tableName, client }), close: () => client.destroy() };
  }
  const client = createClient({ url: target.url, socket: { reconnectStrategy: false } });
  client.on('error', () => undefined);
  await client.connect();
  return { store: new RedisStateStore({ client, keyPrefix: target.keyPrefix }), close: () => client.destroy() };
}
