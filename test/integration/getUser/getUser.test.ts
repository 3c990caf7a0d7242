/**
 * GetUser end to end on real parts: a DynamoDB-compatible server (dynalite, or DynamoDB Local with
 * DYNAMODB_BACKEND=dynamodb-local) holding both tables, the user-directory stub on 127.0.0.1, the real breaker with
 * its DynamoDB state store, the real handler. Time is an injected clock; nothing here sleeps.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { startUserDirectoryStub, type RunningUserDirectoryStub } from '../../../local/userDirectoryStub';
import { loadConfig, worstCaseRequestMs, type GetUserConfig } from '../../../src/config';
import { createContainer, getContainer, type Container, type ContainerOverrides } from '../../../src/handlers/container';
import { createHandler, handler as lambdaHandler, type GetUserHandler } from '../../../src/handlers/getUser';
import { startBlackHole, type BlackHole } from '../../support/getUser/blackHole';
import { captureOutput, type CapturedOutput } from '../../support/getUser/captureOutput';
import { getUserEvent } from '../../support/getUser/events';
import { createTable, localClient } from '../../support/getUser/tables';
import { dynamoBackendName, startDynamoBackend, type RunningDynamoBackend } from '../../support/dynamoBackend';

const USERS_TABLE = 'users';
const BREAKER_TABLE = 'circuit-breakers';
const OPEN_MS = 10_000;
const FUNCTION_TIMEOUT_MS = 6000;

describe(`GetUser against ${dynamoBackendName()} and the directory stub`, () => {
  let dynamo: RunningDynamoBackend;
  let admin: DynamoDBClient;
  let stub: RunningUserDirectoryStub;
  let blackHole: BlackHole;
  let circuitNumber = 0;
  const containers: Container[] = [];
  // Every test's log lines are captured (and asserted on where it matters) rather than printed.
  let output: CapturedOutput;

  beforeAll(async () => {
    dynamo = await startDynamoBackend();
    admin = localClient(dynamo.endpoint);
    await createTable(admin, USERS_TABLE);
    await createTable(admin, BREAKER_TABLE);
    stub = await startUserDirectoryStub();
    blackHole = await startBlackHole();
  });

  afterAll(async () => {
    for (const container of containers) container.destroy();
    admin.destroy();
    await stub.stop();
    await blackHole.stop();
    await dynamo.stop();
  });

  beforeEach(() => {
    stub.setMode({ kind: 'up' });
    output = captureOutput();
  });
  afterEach(() => output.restore());

  function env(): Record<string, string> {
    circuitNumber += 1;
    return {
      TABLE_NAME: USERS_TABLE,
      BREAKER_TABLE_NAME: BREAKER_TABLE,
      USER_DIRECTORY_URL: stub.url,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      // A circuit of its own per test: breaker state never leaks from one test to the next.
      BREAKER_NAME: `user-directory-${circuitNumber}`,
      BREAKER_FAILURE_THRESHOLD: '2',
      BREAKER_WINDOW_MS: '60000',
      BREAKER_TIMEOUT_MS: '500',
      BREAKER_SLOW_CALL_MS: '500',
      BREAKER_OPEN_MS: String(OPEN_MS),
      BREAKER_HALF_OPEN_MAX_CALLS: '1',
      BREAKER_HALF_OPEN_SUCCESS_THRESHOLD: '1',
      BREAKER_STATE_CACHE_MS: '0',
      BREAKER_STORE_TIMEOUT_MS: '300',
      USERS_TABLE_TIMEOUT_MS: '300',
      LOG_LEVEL: 'DEBUG',
    };
  }

  function service(overrides: ContainerOverrides = {}): { handler: GetUserHandler; container: Container; config: GetUserConfig; clock: { now: number } } {
    const clock = { now: Date.now() };
    const config = loadConfig(env());
    const container = createContainer(config, { now: () => clock.now, breakerOptions: { jitterRatio: 0 }, ...overrides });
    containers.push(container);
    return { handler: createHandler(() => container), container, config, clock };
  }

  async function storedUser(id: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await DynamoDBDocumentClient.from(admin).send(new GetCommand({ TableName: USERS_TABLE, Key: { id }, ConsistentRead: true }));
    return Item;
  }

  it('healthy: fresh data from the directory, stored in the Users table', async () => {
    const { handler, clock } = service();
    const response = await handler(getUserEvent('demo-1'));
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-user-source']).toBe('directory');
    expect(JSON.parse(response.body)).toEqual({ id: 'demo-1', name: 'Ada Lovelace', email: 'ada@example.com' });
    expect(await storedUser('demo-1')).toEqual({ id: 'demo-1', name: 'Ada Lovelace', email: 'ada@example.com', fetchedAt: clock.now });

    const unknown = await handler(getUserEvent('nobody'));
    expect(unknown.statusCode).toBe(404);
  });

  it('directory failing: answers from the cache until the breaker opens, then without calling the directory', async () => {
    const { handler, container, clock } = service();
    expect((await handler(getUserEvent('demo-1'))).statusCode).toBe(200);
    stub.setMode({ kind: 'down' });
    clock.now += 5000;

    for (let i = 0; i < 2; i += 1) {
      const response = await handler(getUserEvent('demo-1'));
      expect(response.statusCode).toBe(200);
      expect(response.headers).toMatchObject({ 'x-user-source': 'cache', age: '5' });
    }
    expect((await container.breaker.getState()).state).toBe('OPEN');

    const requestsWhenOpened = stub.stats().requests;
    const cached = await handler(getUserEvent('demo-1', 'req-open'));
    const uncached = await handler(getUserEvent('demo-3'));

    expect(cached.statusCode).toBe(200);
    expect(cached.headers['x-user-source']).toBe('cache');
    expect(uncached.statusCode).toBe(503);
    expect(uncached.headers['retry-after']).toBe(String(OPEN_MS / 1000));
    expect(JSON.parse(uncached.body)).toEqual({ error: { code: 'DIRECTORY_UNAVAILABLE', message: expect.any(String) } });
    expect(stub.stats().requests).toBe(requestsWhenOpened);
    expect(output.jsonLines()).toContainEqual(
      expect.objectContaining({ message: 'request completed', requestId: 'req-open', state: 'OPEN', outcome: 'rejected', result: 'cached' }),
    );
  });

  it("directory 404: the stored copy is deleted, but never a copy fetched after the 404's request started", async () => {
    const { handler, clock } = service();
    const documents = DynamoDBDocumentClient.from(admin);
    const put = (id: string, fetchedAt: number) =>
      documents.send(new PutCommand({ TableName: USERS_TABLE, Item: { id, name: 'Was Here', email: 'was@example.com', fetchedAt } }));
    await put('gone-old', clock.now - 1);
    // Written by another container whose 200 arrived after this 404's request was sent (the user was re-created).
    await put('gone-new', clock.now);

    expect((await handler(getUserEvent('gone-old'))).statusCode).toBe(404);
    expect((await handler(getUserEvent('gone-new'))).statusCode).toBe(404);

    expect(await storedUser('gone-old')).toBeUndefined();
    expect(await storedUser('gone-new')).toMatchObject({ fetchedAt: clock.now });
    // And the deleted user is not served from the table in the next outage.
    stub.setMode({ kind: 'down' });
    expect(JSON.parse((await handler(getUserEvent('gone-old'))).body)).toMatchObject({ error: { code: 'DIRECTORY_UNAVAILABLE' } });
  });

  it('one invalid record never opens the circuit: 502 for it, fresh data for everybody else', async () => {
    const { handler, container } = service();
    stub.setMode({ kind: 'invalidRecord' });
    for (let i = 0; i < 5; i += 1) {
      const response = await handler(getUserEvent('bad-record-1'));
      expect(response.statusCode).toBe(502);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'INVALID_DIRECTORY_RECORD' } });
    }
    expect((await container.breaker.getState()).state).toBe('CLOSED');
    expect(await storedUser('bad-record-1')).toBeUndefined();
    stub.setMode({ kind: 'up' });
    expect((await handler(getUserEvent('demo-3'))).headers['x-user-source']).toBe('directory');
  });

  it('directory answering garbage: a failed call (cache or 503), never a crash', async () => {
    const { handler } = service();
    stub.setMode({ kind: 'garbage' });
    const response = await handler(getUserEvent('demo-2'));
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toBe('application/json');
  });

  it('directory slow: the call is cut at the breaker timeout, counts as a failure, and opens the circuit', async () => {
    const { handler, container, config } = service();
    expect((await handler(getUserEvent('demo-2'))).statusCode).toBe(200);
    stub.setMode({ kind: 'slow', delayMs: 20_000 });

    const started = Date.now();
    const first = await handler(getUserEvent('demo-2', 'req-slow'));
    const elapsed = Date.now() - started;
    await handler(getUserEvent('demo-2'));

    expect(first.headers['x-user-source']).toBe('cache');
    // Bounded by the configured budget, not by the directory's 20 s.
    expect(elapsed).toBeLessThan(worstCaseRequestMs(config));
    expect(output.jsonLines()).toContainEqual(expect.objectContaining({ requestId: 'req-slow', outcome: 'timeout' }));
    expect((await container.breaker.getState()).state).toBe('OPEN');
  });

  it('directory healed: after the open period the trial succeeds, the breaker closes and fresh data is served', async () => {
    const { handler, container, clock } = service();
    stub.setMode({ kind: 'down' });
    await handler(getUserEvent('demo-3'));
    await handler(getUserEvent('demo-3'));
    expect((await container.breaker.getState()).state).toBe('OPEN');

    stub.setMode({ kind: 'up' });
    clock.now += OPEN_MS + 1;
    const response = await handler(getUserEvent('demo-3'));

    expect(response.statusCode).toBe(200);
    expect(response.headers['x-user-source']).toBe('directory');
    expect((await container.breaker.getState()).state).toBe('CLOSED');
    expect(await storedUser('demo-3')).toMatchObject({ id: 'demo-3', fetchedAt: clock.now });
    expect(output.jsonLines()).toContainEqual(expect.objectContaining({ message: 'circuit state changed', state: 'CLOSED' }));
  });

  it('breaker table unreachable: requests are still served fresh, within the time budget', async () => {
    const breakerClient = localClient(blackHole.endpoint);
    const { handler, config } = service({ breakerClient });
    try {
        const started = Date.now();
      const response = await handler(getUserEvent('demo-1'));
      const elapsed = Date.now() - started;
  
      expect(response.statusCode).toBe(200);
      expect(response.headers['x-user-source']).toBe('directory');
      expect(blackHole.connections()).toBeGreaterThan(0);
      expect(elapsed).toBeLessThan(worstCaseRequestMs(config));
      expect(elapsed).toBeLessThan(FUNCTION_TIMEOUT_MS);
      expect(output.jsonLines()).toContainEqual(expect.objectContaining({ message: 'circuit breaker store error' }));
    } finally {
      breakerClient.destroy();
    }
  });

  it('Users table unreachable: a fresh answer is still 200, and a failed call is a 503 within the budget', async () => {
    const usersClient = localClient(blackHole.endpoint);
    const { handler, config } = service({ usersClient });
    try {
        const fresh = await handler(getUserEvent('demo-1'));
      stub.setMode({ kind: 'down' });
      const started = Date.now();
      const failed = await handler(getUserEvent('demo-1'));
      const elapsed = Date.now() - started;
  
      expect(fresh.statusCode).toBe(200);
      expect(failed.statusCode).toBe(503);
      // The table may well hold a copy: the answer must not claim there is none.
      expect(JSON.parse(failed.body)).toEqual({
        error: { code: 'CACHE_UNAVAILABLE', message: expect.stringMatching(/the cached copy could not be read/) },
      });
      expect(elapsed).toBeLessThan(worstCaseRequestMs(config));
      expect(output.jsonLines()).toContainEqual(expect.objectContaining({ message: expect.stringMatching(/users table write failed/) }));
    } finally {
      usersClient.destroy();
    }
  });

  it('the exported handler builds one container from the environment, reuses it, and prints no X-Ray noise', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, env());
    try {
        // Only what these two requests print: no X-Ray complaints about a missing trace context.
      output.restore();
      output = captureOutput();
      const first = await lambdaHandler(getUserEvent('demo-2'));
      const container = getContainer();
      containers.push(container);
      const second = await lambdaHandler(getUserEvent('demo-2'));
  
      expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
      expect(getContainer()).toBe(container);
      const text = output.text();
      expect(text).not.toMatch(/x-?ray|segment|context missing/i);
      // Every line is one JSON log event.
      const lines = text.split('\n').filter((line) => line.trim() !== '');
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    } finally {
      process.env = saved;
    }
  });
});
