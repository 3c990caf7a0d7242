/**
 * GetUser with BREAKER_STORE=redis on real parts: the breaker's state in a real redis-server (connected lazily by
 * the container), the Users table on the DynamoDB backend, the user-directory stub. The circuit opens and the
 * state is in the Redis hash; a container whose Redis is gone serves by onStoreError and says so in its log.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startUserDirectoryStub, type RunningUserDirectoryStub } from '../../../local/userDirectoryStub';
import { loadConfig } from '../../../src/config';
import { createContainer, type Container } from '../../../src/handlers/container';
import { createHandler } from '../../../src/handlers/getUser';
import { startDynamoBackend, type RunningDynamoBackend } from '../../support/dynamoBackend';
import { captureOutput, type CapturedOutput } from '../../support/getUser/captureOutput';
import { getUserEvent } from '../../support/getUser/events';
import { createTable, localClient } from '../../support/getUser/tables';
import { startRedisServer } from '../../../local/redisServer';
import { startTestRedis, type TestRedis, type TestRedisClient } from '../../support/redisServer';

let dynamo: RunningDynamoBackend;
let admin: DynamoDBClient;
let redis: TestRedis;
let redisAdmin: TestRedisClient;
let stub: RunningUserDirectoryStub;
let output: CapturedOutput;
const containers: Container[] = [];

beforeAll(async () => {
  [dynamo, redis, stub] = await Promise.all([startDynamoBackend(), startTestRedis(), startUserDirectoryStub()]);
  admin = localClient(dynamo.endpoint);
  await createTable(admin, 'users');
  redisAdmin = await redis.newClient();
});
afterAll(async () => {
  for (const container of containers) container.destroy();
  admin?.destroy();
  await Promise.all([stub?.stop(), redis?.stop(), dynamo?.stop()]);
});
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => output.restore());

function service(circuit: string, redisUrl: string) {
  const config = loadConfig({
    TABLE_NAME: 'users',
    BREAKER_STORE: 'redis',
    BREAKER_REDIS_URL: redisUrl,
    USER_DIRECTORY_URL: stub.url,
    DYNAMODB_ENDPOINT: dynamo.endpoint,
    BREAKER_NAME: circuit,
    BREAKER_FAILURE_THRESHOLD: '2',
    BREAKER_STATE_CACHE_MS: '0',
    BREAKER_STORE_TIMEOUT_MS: '500',
    BREAKER_TIMEOUT_MS: '1000',
    BREAKER_SLOW_CALL_MS: '1000',
    USERS_TABLE_TIMEOUT_MS: '400',
  });
  const container = createContainer(config);
  containers.push(container);
  return { handler: createHandler(() => container), container };
}

test('the circuit opens on the directory failing, and its state is the Redis hash', async () => {
  const { handler, container } = service('redis-open', redis.url);
  stub.setMode({ kind: 'up' });
  expect((await handler(getUserEvent('demo-1'))).statusCode).toBe(200);
  stub.setMode({ kind: 'down' });
  await handler(getUserEvent('demo-1'));
  await handler(getUserEvent('demo-1'));
  expect((await container.breaker.getState()).state).toBe('OPEN');
  expect(await redisAdmin.sendCommand(['HGET', 'circuit-breaker:redis-open', 'state'])).toBe('OPEN');
  expect((await handler(getUserEvent('demo-3'))).statusCode).toBe(503);
});

test('Redis unreachable: requests are still served (onStoreError local: the container decides alone) and the store error is logged', async () => {
  const gone = await startTestRedis();
  const url = gone.url;
  await gone.stop();
  const { handler } = service('redis-gone', url);
  stub.setMode({ kind: 'up' });
  expect((await handler(getUserEvent('demo-1'))).statusCode).toBe(200);
  expect(output.jsonLines()).toContainEqual(expect.objectContaining({ message: 'circuit breaker store error', circuit: 'redis-gone', operation: 'read', policy: 'local', mode: 'local' }));
});

test('Redis restarted (a failover): one request meets the store error, the next reconnects and is counted again', async () => {
  let server = await startRedisServer();
  const { handler, container } = service('redis-restart', server.url);
  stub.setMode({ kind: 'down' });
  await handler(getUserEvent('demo-1'));
  expect((await container.breaker.getState()).failures).toBe(1);
  await server.stop();
  // Served by onStoreError 'allow' (from the Users table: the directory is down), the store error logged.
  expect((await handler(getUserEvent('demo-1'))).statusCode).toBe(200);
  expect(output.jsonLines()).toContainEqual(expect.objectContaining({ message: 'circuit breaker store error', circuit: 'redis-restart' }));
  server = await startRedisServer({ port: server.port });
  try {
    // A fresh server: the old state is gone (the circuit is closed and new), and the container reconnects by itself.
    expect((await container.breaker.getState()).failures).toBe(0);
    await handler(getUserEvent('demo-1'));
    expect((await container.breaker.getState()).failures).toBe(1);
  } finally {
    await server.stop();
  }
});
