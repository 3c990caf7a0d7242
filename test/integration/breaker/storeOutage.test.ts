/** A DynamoDB endpoint that accepts connections and never answers: the breaker must not hang its caller. */
import { CircuitBreaker, DynamoDBStateStore, StoreTimeoutError, type BreakerEvent } from '../../../src/breaker';
import { clientFor } from '../../support/breaker/breakerTable';
import { startHungEndpoint } from '../../support/breaker/downstream';

let hung: Awaited<ReturnType<typeof startHungEndpoint>>;
const clients: ReturnType<typeof clientFor>[] = [];

beforeAll(async () => {
  hung = await startHungEndpoint();
});
afterAll(async () => {
  for (const client of clients) client.destroy();
  await hung?.stop();
});

function breakerOnHungStore(onStoreError: 'allow' | 'deny') {
  const client = clientFor(hung.endpoint);
  clients.push(client);
  const events: BreakerEvent[] = [];
  const breaker = new CircuitBreaker({ name: 'hung', store: new DynamoDBStateStore({ tableName: 'breakers', client }), storeTimeoutMs: 100, storeMaxAttempts: 2, onStoreError });
  breaker.onEvent((event) => events.push(event));
  return { breaker, events };
}

test("'allow': the call goes through once the store budget is spent, with a storeError event naming the timeout", async () => {
  const { breaker, events } = breakerOnHungStore('allow');
  await expect(breaker.execute(async () => 'served')).resolves.toBe('served');
  const storeError = events.find((e) => e.type === 'storeError');
  expect(storeError).toMatchObject({ operation: 'read', policy: 'allow' });
  expect(storeError?.type === 'storeError' && (storeError.error.cause as Error)).toBeInstanceOf(StoreTimeoutError);
});

test("'deny': the call is rejected with CircuitOpenError(STORE_UNAVAILABLE), fn never runs", async () => {
  const { breaker } = breakerOnHungStore('deny');
  const fn = jest.fn(async () => 'served');
  await expect(breaker.execute(fn)).rejects.toMatchObject({ name: 'CircuitOpenError', state: 'STORE_UNAVAILABLE' });
  expect(fn).not.toHaveBeenCalled();
});

test('getState() fails with a StateStoreError instead of hanging', async () => {
  const { breaker } = breakerOnHungStore('allow');
  await expect(breaker.getState()).rejects.toMatchObject({ name: 'StateStoreError', operation: 'read' });
});
