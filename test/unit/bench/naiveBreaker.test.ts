import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynalite, type RunningDynalite } from '../../../local/dynalite';
import { CircuitOpenError } from '../../../src/breaker/errors';
import { createBreakerTable, localClient } from '../../../bench/dynamo';
import { NaiveBreaker } from '../../../bench/naiveBreaker';
import { countRequests } from '../../../bench/requestCounter';

const boom = (): Promise<never> => Promise.reject(new Error('downstream failed'));
const ok = (): Promise<string> => Promise.resolve('ok');

describe('NaiveBreaker (the bench baseline) against dynalite', () => {
  let dynamo: RunningDynalite;
  let client: DynamoDBClient;
  const table = 'naive-test';
  let circuit = 0;
  let clock = 1_000_000;
  const breaker = (overrides: { failureThreshold?: number; onCallCompleted?: (admittedIn: string, outcome: string) => void } = {}) =>
    new NaiveBreaker({ client, tableName: table, name: `naive-${circuit}`, failureThreshold: 3, openMs: 500, now: () => clock, ...overrides });

  beforeAll(async () => {
    dynamo = await startDynalite();
    client = localClient(dynamo.endpoint);
    await createBreakerTable(client, table);
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.stop();
  });
  beforeEach(() => {
    circuit += 1;
  });

  it('reads and writes the whole item on every call: 2 requests per call', async () => {
    const counter = countRequests(client);
    const naive = breaker();
    await naive.execute(ok);
    await expect(naive.execute(boom)).rejects.toThrow('downstream failed');
    expect(counter.counts()).toEqual({ GetItem: 2, PutItem: 2 });
    counter.detach();
  });

  it('opens at the threshold and rejects without calling until the open period ends', async () => {
    const naive = breaker();
    for (let i = 0; i < 3; i += 1) await expect(naive.execute(boom)).rejects.toThrow('downstream failed');
    expect(await naive.read()).toEqual({ state: 'OPEN', failures: 3, openedAt: clock });
    const fn = jest.fn(ok);
    clock += 499;
    const rejection = naive.execute(fn);
    await expect(rejection).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(rejection).rejects.toMatchObject({ retryAfterMs: 1, state: 'OPEN' });
    expect(fn).not.toHaveBeenCalled();
  });

  it('after the open period lets every caller through as a trial (no half-open limit), and a success closes', async () => {
    const admitted: string[] = [];
    const naive = breaker({ onCallCompleted: (admittedIn) => admitted.push(admittedIn) });
    for (let i = 0; i < 3; i += 1) await expect(naive.execute(boom)).rejects.toThrow();
    clock += 500;
    let inFlight = 0;
    let maxInFlight = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const trial = async (): Promise<string> => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (inFlight === 5) release();
      await gate;
      inFlight -= 1;
      return 'ok';
    };
    await Promise.all(Array.from({ length: 5 }, () => naive.execute(trial)));
    expect(maxInFlight).toBe(5);
    expect(admitted.slice(-5)).toEqual(Array(5).fill('HALF_OPEN'));
    expect(await naive.read()).toEqual({ state: 'CLOSED', failures: 0, openedAt: 0 });
  });

  it('reopens when a trial fails', async () => {
    const naive = breaker();
    for (let i = 0; i < 3; i += 1) await expect(naive.execute(boom)).rejects.toThrow();
    clock += 600;
    await expect(naive.execute(boom)).rejects.toThrow('downstream failed');
    expect((await naive.read()).state).toBe('OPEN');
    expect((await naive.read()).openedAt).toBe(clock);
  });

  it('loses failure counts when callers fail concurrently: the lost update the bench measures', async () => {
    const naive = breaker({ failureThreshold: 1000 });
    // Every call has read the item (failures 0) before any of them fails and writes failures 1.
    let entered = 0;
    let release: () => void = () => undefined;
    const allRead = new Promise<void>((resolve) => (release = resolve));
    const gatedFailure = async (): Promise<never> => {
      entered += 1;
      if (entered === 10) release();
      await allRead;
      throw new Error('downstream failed');
    };
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => naive.execute(gatedFailure)));
    expect(outcomes.every((outcome) => outcome.status === 'rejected')).toBe(true);
    expect((await naive.read()).failures).toBe(1);
  });

  it('names a malformed item', async () => {
    const { PutItemCommand } = await import('@aws-sdk/client-dynamodb');
    await client.send(new PutItemCommand({ TableName: table, Item: { id: { S: `naive-${circuit}` }, state: { S: 'WEIRD' } } }));
    await expect(breaker().read()).rejects.toThrow(`naive breaker item 'naive-${circuit}' is malformed`);
  });
});
