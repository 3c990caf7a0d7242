/**
 * Writes stay within DynamoDB's limits whatever the item holds (4 KB expressions, 400 KB items). dynalite enforces
 * neither, so the limits themselves are only met on DynamoDB Local (npm run test:dynamodb-local); on dynalite the
 * same scenarios check the behaviour (the circuit opens, reset works, bounded removals).
 */
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { CircuitBreaker, DynamoDBStateStore, type BreakerEvent } from '../../../src/breaker';
import { startBreakerTable, type BreakerTable } from '../../support/breaker/breakerTable';

let table: BreakerTable;
let seq = 0;

beforeAll(async () => {
  table = await startBreakerTable();
});
afterAll(async () => {
  await table?.stop();
});

/**
 * DynamoDB's item limit is 400 KB = 409,600 bytes of names and values. FULL leaves under 10 bytes (a count's
 * updatedAt alone does not fit); ROOM_FOR_COUNTS leaves about 100 (counts fit, the opening's attributes do not).
 */
const FULL = 409_600 - 33 - 7;
const ROOM_FOR_COUNTS = 409_600 - 33 - 100;
const boom = () => Promise.reject(new Error('downstream failed'));

async function plant(item: Record<string, unknown>): Promise<string> {
  const name = `limits-${++seq}`;
  await table.newClient().send(new PutItemCommand({ TableName: table.tableName, Item: marshall({ id: name, ...item }) }));
  return name;
}

function breaker(name: string) {
  const events: BreakerEvent[] = [];
  // Generous store budget: a loaded machine must not look like an outage.
  const instance = new CircuitBreaker({ name, store: new DynamoDBStateStore({ tableName: table.tableName, client: table.newClient() }), failureThreshold: 5, storeTimeoutMs: 30_000, storeMaxAttempts: 1 });
  instance.onEvent((event) => events.push(event));
  return { instance, events };
}

test('thousands of stale buckets: each count removes at most 20 of them (4 KB expressions), the circuit opens at the threshold, reset works', async () => {
  const stale = Object.fromEntries(Array.from({ length: 3_000 }, (_, i) => [`f_${1_000_000 + i}`, 1]));
  const name = await plant({ state: 'CLOSED', version: 1, ...stale });
  const { instance, events } = breaker(name);
  for (let i = 0; i < 5; i++) await expect(instance.execute(boom)).rejects.toThrow('downstream failed');
  expect(events.filter((e) => e.type === 'storeError')).toEqual([]);
  expect((await instance.getState()).state).toBe('OPEN');
  await expect(instance.reset()).resolves.toMatchObject({ state: 'CLOSED' });
});

test('an item padded to 400 KB by something else: the refused count rewrites it as a closed item (reported), and the circuit still opens at the threshold', async () => {
  const name = await plant({ state: 'CLOSED', version: 1, pad: 'x'.repeat(FULL) });
  const { instance, events } = breaker(name);
  for (let i = 0; i < 5; i++) await expect(instance.execute(boom)).rejects.toThrow('downstream failed');
  expect((await instance.getState()).state).toBe('OPEN');
  if (table.backend.name === 'dynamodb-local') {
    expect(events).toContainEqual(expect.objectContaining({ type: 'itemRepaired', problems: ['the item is too large to write'] }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'storeError', operation: 'recordCount' }));
  }
});

test('an item with room for counts but not for the opening: the OPEN transition rewrites the whole item', async () => {
  const name = await plant({ state: 'CLOSED', version: 1, pad: 'x'.repeat(ROOM_FOR_COUNTS) });
  const { instance } = breaker(name);
  for (let i = 0; i < 5; i++) await expect(instance.execute(boom)).rejects.toThrow('downstream failed');
  expect(await instance.getState()).toMatchObject({ state: 'OPEN', openReason: 'failureThreshold' });
  await expect(instance.reset()).resolves.toMatchObject({ state: 'CLOSED' });
});

test('reset of a padded, malformed item succeeds', async () => {
  const name = await plant({ state: 'OPEN', version: 1.5, openUntil: 8.64e15, pad: 'x'.repeat(FULL - 30) });
  const { instance } = breaker(name);
  await expect(instance.reset()).resolves.toMatchObject({ state: 'CLOSED', problems: [] });
});
