/**
 * DynamoDBStateStore on a table whose partition key is not `id` (keyAttr), with a store that builds its own client
 * from clientConfig, on the integration backend (dynalite by default).
 */
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { CircuitBreaker, DynamoDBStateStore, StateStoreError } from '../../../src/breaker';
import { clientFor } from '../../support/breaker/breakerTable';
import { startDynamoBackend, type RunningDynamoBackend } from '../../support/dynamoBackend';

const TABLE = 'shared-table';
let backend: RunningDynamoBackend;
let admin: DynamoDBClient;
const stores: DynamoDBStateStore[] = [];

beforeAll(async () => {
  backend = await startDynamoBackend();
  admin = clientFor(backend.endpoint);
  await admin.send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});
afterAll(async () => {
  for (const store of stores) store.client.destroy();
  admin?.destroy();
  await backend?.stop();
});

function storeWith(keyAttr?: string): DynamoDBStateStore {
  const store = new DynamoDBStateStore({
    tableName: TABLE,
    ...(keyAttr === undefined ? {} : { keyAttr }),
    clientConfig: { endpoint: backend.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } },
  });
  stores.push(store);
  return store;
}

let clock = Date.now();
const now = () => clock;
const breakerOn = (store: DynamoDBStateStore, name: string) =>
  new CircuitBreaker({ name, store, failureThreshold: 2, openMs: 1_000, halfOpenMaxCalls: 1, halfOpenSuccessThreshold: 1, storeTimeoutMs: 5_000, storeMaxAttempts: 1, random: () => 0, now });

test('keyAttr pk: counts, opens, probes and closes with the item keyed by pk; a clientConfig store sends with its own client', async () => {
  const store = storeWith('pk');
  expect(store.keyAttr).toBe('pk');
  const breaker = breakerOn(store, 'keyed-by-pk');
  for (let i = 0; i < 2; i++) await expect(breaker.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
  const raw = await admin.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'keyed-by-pk' } }, ConsistentRead: true }));
  expect(raw.Item?.state).toEqual({ S: 'OPEN' });
  expect(raw.Item?.id).toBeUndefined();
  expect((await breaker.getState()).state).toBe('OPEN');

  clock += 1_000;
  await expect(breaker.execute(async () => 'probe')).resolves.toBe('probe');
  expect((await breaker.getState()).state).toBe('CLOSED');
  const closed = await admin.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'keyed-by-pk' } }, ConsistentRead: true }));
  expect(closed.Item?.state).toEqual({ S: 'CLOSED' });
});

test('the default keyAttr (id) on a table keyed pk is refused by the server: the key really is keyAttr', async () => {
  const breaker = breakerOn(storeWith(), 'keyed-by-id');
  await expect(breaker.getState()).rejects.toThrow(StateStoreError);
  await expect(breaker.getState()).rejects.toThrow(/key/i);
});
