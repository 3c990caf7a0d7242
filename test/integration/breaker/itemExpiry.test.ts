/**
 * The state item's TTL on each backend, with the breaker table made from serverless.yml's definition: the local
 * table gets TTL on `expiresAt` where the server has the TTL API (DynamoDB Local, as DynamoDB) and not where it has
 * none (dynalite); the breaker writes the attribute either way, and an item deleted as TTL deletes it is a closed
 * circuit on both.
 */
import { DeleteItemCommand, DescribeTimeToLiveCommand, GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTables, readTablesFromServerlessYml } from '../../../tools/serverless-config/tablesFromServerlessYml';
import { CircuitBreaker, DynamoDBStateStore } from '../../../src/breaker';
import { clientFor } from '../../support/breaker/breakerTable';
import { ManualClock } from '../../support/breaker/clock';
import { startDynamoBackend, type RunningDynamoBackend } from '../../support/dynamoBackend';

const tables = readTablesFromServerlessYml({ stage: 'dev' });
const tableName = tables.find((table) => table.logicalId === 'CircuitBreakers')?.input.TableName as string;
const DAY = 24 * 60 * 60 * 1000;

let backend: RunningDynamoBackend;
let client: DynamoDBClient;
let ttlUnsupported: string[];
let circuitSeq = 0;

beforeAll(async () => {
  backend = await startDynamoBackend();
  client = clientFor(backend.endpoint);
  ({ ttlUnsupported } = await createTables(client, tables));
});
afterAll(async () => {
  client?.destroy();
  await backend?.stop();
});

/*
 * The clocks start at the real time: DynamoDB Local does act on TTL, so an item written with an expiry in the past
 * (a fixed clock from 2023) may be deleted under the test.
 */
function breaker(clock: ManualClock, circuit: string): CircuitBreaker {
  return new CircuitBreaker({
    name: circuit,
    store: new DynamoDBStateStore({ tableName, client }),
    failureThreshold: 2,
    stateCacheMs: 0,
    storeTimeoutMs: 5_000,
    now: clock.now,
  });
}

const rawItem = async (circuit: string) =>
  (await client.send(new GetItemCommand({ TableName: tableName, Key: { id: { S: circuit } }, ConsistentRead: true }))).Item;

test('the breaker table from serverless.yml has TTL on expiresAt where the server has the TTL API', async () => {
  const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  if (backend.name === 'dynamodb-local') {
    expect(ttlUnsupported).toEqual([]);
    expect(TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
  } else {
    expect(ttlUnsupported).toEqual(tables.filter((table) => table.ttlAttribute !== undefined).map((table) => table.input.TableName));
    expect(ttlUnsupported).toContain(tableName);
    expect(TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'DISABLED' });
  }
});

test('a failure sets expiresAt a week ahead in epoch seconds; forcing open removes it, reset sets it again', async () => {
  const clock = new ManualClock(Date.now());
  const circuit = `expiry-${++circuitSeq}`;
  const instance = breaker(clock, circuit);
  await expect(instance.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
  expect((await rawItem(circuit))?.expiresAt).toEqual({ N: String(Math.ceil((clock.time + 7 * DAY) / 1000)) });

  await instance.forceOpen();
  expect(await rawItem(circuit)).not.toHaveProperty('expiresAt');

  clock.advance(DAY);
  await instance.reset();
  expect((await rawItem(circuit))?.expiresAt).toEqual({ N: String(Math.ceil((clock.time + 7 * DAY) / 1000)) });
});

test('an item deleted as TTL deletes it reads as closed, and counting opens the circuit again from version 0', async () => {
  const clock = new ManualClock(Date.now());
  const circuit = `expiry-${++circuitSeq}`;
  const instance = breaker(clock, circuit);
  const fail = () => expect(instance.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
  await fail();
  await fail();
  expect(await instance.getState()).toMatchObject({ state: 'OPEN', version: 1 });
  await instance.reset();

  clock.advance(8 * DAY);
  await client.send(new DeleteItemCommand({ TableName: tableName, Key: { id: { S: circuit } } }));
  expect(await instance.getState()).toMatchObject({ state: 'CLOSED', version: null, failures: 0, problems: [] });
  await fail();
  await fail();
  expect(await instance.getState()).toMatchObject({ state: 'OPEN', version: 1, failures: 0 });
});
