/**
 * The GetUser handler with HTTP API v2 events, running the real use case and the real breaker (in-memory state),
 * with a scripted directory and an in-memory Users table.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { CircuitBreaker, MemoryStateStore } from '../../../src/breaker';
import { createHandler, RESPONSE_RESERVE_MS, type GetUserHandler } from '../../../src/handlers/getUser';
import { createMetrics, recordBreakerEvent } from '../../../src/observability/metrics';
import { logBreakerEvent } from '../../../src/observability/breakerEventLog';
import { noTracing } from '../../../src/observability/tracer';
import { CircuitOpenError } from '../../../src/breaker/errors';
import {
  countsAsDirectoryFailure,
  DirectoryRejectedError,
  DirectoryUnavailableError,
  InvalidDirectoryRecordError,
} from '../../../src/users/directoryClient';
import { createGetUser } from '../../../src/users/getUser';
import { captureOutput, type CapturedOutput } from '../../support/getUser/captureOutput';
import { getUserEvent } from '../../support/getUser/events';
import { fakeDirectory, fakeUsers, found, type FakeDirectory, type FakeUsers } from '../../support/getUser/fakes';

const ada = { id: 'demo-1', name: 'Ada Lovelace', email: 'ada@example.com' };
const grace = { id: 'demo-2', name: 'Grace Hopper', email: 'grace@example.com' };
const T0 = 1_767_225_600_000;
const OPEN_MS = 10_000;
const TIMEOUT_MS = 200;

interface World {
  handler: GetUserHandler;
  directory: FakeDirectory;
  users: FakeUsers;
  breaker: CircuitBreaker;
  clock: { now: number };
}

function world(options: { getUser?: () => Promise<never> } = {}): World {
  const clock = { now: T0 };
  const logger = new Logger({ serviceName: 'test', logLevel: 'DEBUG' });
  const breaker = new CircuitBreaker({
    name: 'user-directory',
    store: new MemoryStateStore(),
    failureThreshold: 2,
    windowMs: 60_000,
    timeoutMs: TIMEOUT_MS,
    slowCallMs: TIMEOUT_MS,
    openMs: OPEN_MS,
    halfOpenMaxCalls: 1,
    halfOpenSuccessThreshold: 1,
    stateCacheMs: 0,
    jitterRatio: 0,
    isFailure: countsAsDirectoryFailure,
    now: () => clock.now,
  });
  breaker.onEvent((event) => logBreakerEvent(logger, event));
  const metrics = createMetrics({ serviceName: 'test', circuit: 'user-directory' });
  breaker.onEvent((event) => recordBreakerEvent(metrics, event));
  const directory = fakeDirectory(found(ada));
  const users = fakeUsers();
  const getUser = createGetUser({
    circuit: 'user-directory',
    breaker,
    directory,
    users,
    tracing: noTracing,
    now: () => clock.now,
  });
  const handler = createHandler(() => ({ getUser: options.getUser ?? getUser, logger, metrics }));
  return { handler, directory, users, breaker, clock };
}

function body(response: { body: string }): Record<string, unknown> {
  return JSON.parse(response.body) as Record<string, unknown>;
}

function expectJsonError(response: { statusCode: number; headers: Record<string, string>; body: string }, status: number, code: string): void {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toBe('application/json');
  expect(body(response)).toEqual({ error: { code, message: expect.any(String) } });
}

describe('GET /user/{id}', () => {
  let output: CapturedOutput;
  beforeEach(() => (output = captureOutput()));
  afterEach(() => output.restore());

  it('200 from the directory: the user as JSON, source and request id headers, and the copy stored', async () => {
    const { handler, users, clock } = world();
    const response = await handler(getUserEvent('demo-1', 'req-fresh'));

    expect(response.statusCode).toBe(200);
    expect(response.headers).toEqual({
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'x-request-id': 'req-fresh',
      'x-user-source': 'directory',
    });
    expect(body(response)).toEqual(ada);
    expect(users.items.get('demo-1')).toEqual({ ...ada, fetchedAt: clock.now });
  });

  it('logs one JSON line per request tying the request id to circuit, state, outcome and latency', async () => {
    const { handler } = world();
    await handler(getUserEvent('demo-1', 'req-log'));
    const line = output.jsonLines().find((entry) => entry.message === 'request completed');
    expect(line).toMatchObject({
      requestId: 'req-log',
      status: 200,
      circuit: 'user-directory',
      state: 'CLOSED',
      outcome: 'success',
      latencyMs: expect.any(Number),
    });
  });

  it('404 when the directory does not know the id, and the old copy is deleted (only copies older than the request)', async () => {
    const { handler, directory, users } = world();
    users.items.set('gone', { id: 'gone', name: 'Gone', email: 'gone@example.com', fetchedAt: T0 - 1000 });
    directory.script = { kind: 'notFound' };

    const response = await handler(getUserEvent('gone'));
    expectJsonError(response, 404, 'USER_NOT_FOUND');
    expect(body(response)).toEqual({ error: { code: 'USER_NOT_FOUND', message: 'No user with id "gone".' } });
    expect(users.reads).toEqual([]);
    // The delete is conditioned on when this request started (T0): see usersRepository for the condition itself.
    expect(users.removals).toEqual([{ id: 'gone', requestStartedAt: T0 }]);
    expect(users.items.has('gone')).toBe(false);

    // In the next outage the deleted user is not served from the table.
    directory.script = new DirectoryUnavailableError('status', 'down', 503);
    expectJsonError(await handler(getUserEvent('gone')), 503, 'DIRECTORY_UNAVAILABLE');
  });

  describe('the cached copy could not be read', () => {
    it('503 CACHE_UNAVAILABLE, never "no cached copy exists", and its own metric', async () => {
      const { handler, directory, users } = world();
      users.items.set('demo-1', { ...ada, fetchedAt: T0 - 1000 });
      users.unreadable = true;
      directory.script = new DirectoryUnavailableError('status', 'down', 503);

      const response = await handler(getUserEvent('demo-1'));
      expectJsonError(response, 503, 'CACHE_UNAVAILABLE');
      expect(body(response)).toEqual({
        error: { code: 'CACHE_UNAVAILABLE', message: 'The user directory is unavailable and the cached copy could not be read; retry in 1 s.' },
      });
      expect(response.headers['retry-after']).toBe('1');
      expect(response.body).not.toMatch(/no cached copy/);
      const emf = output.jsonLines().find((entry) => entry._aws !== undefined);
      expect(emf).toMatchObject({ CacheUnavailableAnswers: 1 });
      expect(emf).not.toHaveProperty('UnavailableAnswers');
    });
  });

  describe('an invalid record from a healthy directory', () => {
    const invalid = () => new InvalidDirectoryRecordError('bad-1', '"name" must be a non-empty string of at most 256 characters');

    it('never opens the circuit: an unrelated user still gets fresh data', async () => {
      const { handler, directory, breaker } = world();
      directory.script = invalid();
      for (let i = 0; i < 5; i += 1) expectJsonError(await handler(getUserEvent('bad-1')), 502, 'INVALID_DIRECTORY_RECORD');
      expect((await breaker.getState()).state).toBe('CLOSED');

      directory.script = found(grace);
      const unrelated = await handler(getUserEvent('demo-2'));
      expect(unrelated.statusCode).toBe(200);
      expect(unrelated.headers['x-user-source']).toBe('directory');
    });

    it('502 INVALID_DIRECTORY_RECORD naming the problem, counted by a metric, logged as ignored', async () => {
      const { handler, directory } = world();
      directory.script = invalid();
      const response = await handler(getUserEvent('bad-1'));
      expect(body(response)).toEqual({
        error: {
          code: 'INVALID_DIRECTORY_RECORD',
          message: 'The user directory\'s record for "bad-1" is invalid ("name" must be a non-empty string of at most 256 characters) and no cached copy could be served.',
        },
      });
      expect(response.headers).not.toHaveProperty('retry-after');
      expect(output.jsonLines().find((entry) => entry._aws !== undefined)).toMatchObject({ InvalidRecordAnswers: 1, InvalidDirectoryRecords: 1 });
      expect(output.jsonLines()).toContainEqual(expect.objectContaining({ message: 'request completed', status: 502, outcome: 'ignored' }));
    });

    it('serves the cached copy when there is one, still counting the invalid record', async () => {
      const { handler, directory, users } = world();
      users.items.set('bad-1', { id: 'bad-1', name: 'Before', email: 'b@example.com', fetchedAt: T0 - 3000 });
      directory.script = invalid();
      const response = await handler(getUserEvent('bad-1'));
      expect(response.statusCode).toBe(200);
      expect(response.headers).toMatchObject({ 'x-user-source': 'cache', age: '3' });
      expect(output.jsonLines().find((entry) => entry._aws !== undefined)).toMatchObject({ CachedAnswers: 1, InvalidDirectoryRecords: 1 });
    });
  });

  describe('a circuit an operator holds open (FORCED_OPEN)', () => {
    it('503 without retry-after, saying an operator holds it open', async () => {
      const { handler, breaker, directory } = world();
      await breaker.forceOpen();
      const response = await handler(getUserEvent('demo-3'));
      expectJsonError(response, 503, 'DIRECTORY_UNAVAILABLE');
      expect(response.headers).not.toHaveProperty('retry-after');
      expect((body(response).error as { message: string }).message).toBe(
        "The user directory's circuit is held open by an operator and no cached copy of this user exists; it stays open until an operator resets it, so no retry time can be given.",
      );
      expect(directory.calls).toEqual([]);
    });

    it.each([0, null])('promises no end whether the breaker reports retryAfterMs %p', async (retryAfterMs) => {
      const users = fakeUsers();
      users.unreadable = true;
      const getUser = createGetUser({
        circuit: 'user-directory',
        breaker: { execute: () => Promise.reject(new CircuitOpenError('user-directory', retryAfterMs as number, 'FORCED_OPEN')) },
        directory: fakeDirectory(),
        users,
        tracing: noTracing,
        now: () => T0,
      });
      await expect(getUser('demo-1')).resolves.toMatchObject({ kind: 'cacheUnavailable', retryAfterMs: null, heldOpenByOperator: true });
    });
  });

  it('a call not admitted during a ramp-up after a close is answered from the Users table, without calling the directory', async () => {
    const clock = { now: T0 };
    const breaker = new CircuitBreaker({
      name: 'user-directory',
      store: new MemoryStateStore(),
      failureThreshold: 1,
      openMs: 1_000,
      halfOpenMaxCalls: 1,
      halfOpenSuccessThreshold: 1,
      stateCacheMs: 0,
      jitterRatio: 0,
      rampUpMs: 10_000,
      rampUpStartFraction: 0.1,
      random: () => 0.5, // drawn above 10 %: not admitted right after the close
      now: () => clock.now,
    });
    const directory = fakeDirectory(found(ada));
    const getUser = createGetUser({ circuit: 'user-directory', breaker, directory, users: fakeUsers(), tracing: noTracing, now: () => clock.now });
    await expect(getUser('demo-1')).resolves.toMatchObject({ kind: 'fresh' });
    directory.script = new Error('directory down');
    await getUser('demo-1'); // opens
    clock.now += 1_000;
    directory.script = found(ada);
    await expect(getUser('demo-1')).resolves.toMatchObject({ kind: 'fresh' }); // the trial closes it
    expect((await breaker.getState()).rampUpFraction).toBe(0.1);
    const calls = directory.calls.length;
    clock.now += 3_000;
    await expect(getUser('demo-1')).resolves.toMatchObject({ kind: 'cached', user: ada, ageSeconds: 3 });
    expect(directory.calls).toHaveLength(calls);
  });

  it("does not count the directory's 404 against the breaker", async () => {
    const { handler, directory, breaker } = world();
    directory.script = { kind: 'notFound' };
    for (let i = 0; i < 5; i += 1) await handler(getUserEvent('nobody'));
    expect((await breaker.getState()).state).toBe('CLOSED');
    expect(directory.calls).toHaveLength(5);
  });

  describe('400 for an invalid id, which reaches neither the directory nor the table', () => {
    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['too long', 'x'.repeat(129)],
      ['a space', 'a b'],
      ['path traversal', '../../etc/passwd'],
      ['a dot segment', '..'],
      ['unicode', 'j\u00f6rg'],
      ['an emoji', '\u{1F600}'],
      ['SQL', "1' OR '1'='1"],
      ['SQL comment', 'a;--'],
      ['NoSQL operator', '{"$gt":""}'],
      ['NoSQL key', '$where'],
      ['a NUL byte', 'a\u0000'],
      ['CRLF injection', 'a\r\nx-evil: 1'],
    ])('%s', async (_label, id) => {
      const { handler, directory, users } = world();
      const response = await handler(getUserEvent(id, 'req-bad'));
      expectJsonError(response, 400, 'INVALID_USER_ID');
      expect(response.headers['x-request-id']).toBe('req-bad');
      expect(directory.calls).toEqual([]);
      expect(users.reads).toEqual([]);
      expect(users.items.size).toBe(0);
    });

    it('names the problem', async () => {
      const { handler } = world();
      expect(body(await handler(getUserEvent('x'.repeat(129))))).toEqual({
        error: { code: 'INVALID_USER_ID', message: 'user id must be at most 128 characters long, got 129' },
      });
    });
  });

  it('200 from the cache, with its age, when the call fails and a copy exists', async () => {
    const { handler, directory, users, clock } = world();
    users.items.set('demo-1', { ...ada, fetchedAt: T0 - 90_500 });
    directory.script = new DirectoryUnavailableError('status', 'user directory answered status 503', 503);

    const response = await handler(getUserEvent('demo-1', 'req-cache'));
    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({ 'content-type': 'application/json', 'x-user-source': 'cache', age: '90', 'x-request-id': 'req-cache' });
    expect(body(response)).toEqual(ada);
    expect(users.items.get('demo-1')?.fetchedAt).toBe(clock.now - 90_500);
  });

  it('503 with Retry-After when the call fails and there is no copy; no internal text leaks', async () => {
    const { handler, directory } = world();
    directory.script = new DirectoryUnavailableError('unreachable', 'user directory unreachable: fetch failed (ECONNREFUSED 10.0.0.7:4010)');

    const response = await handler(getUserEvent('demo-3'));
    expectJsonError(response, 503, 'DIRECTORY_UNAVAILABLE');
    expect(response.headers['retry-after']).toBe('1');
    expect(response.body).not.toMatch(/ECONNREFUSED|10\.0\.0\.7|Error|at /);
  });

  it('503 without Retry-After when an operator forced the circuit open (no end is promised)', async () => {
    const { handler, breaker, directory } = world();
    await breaker.forceOpen();
    const response = await handler(getUserEvent('demo-3'));
    expectJsonError(response, 503, 'DIRECTORY_UNAVAILABLE');
    expect(response.headers).not.toHaveProperty('retry-after');
    expect(directory.calls).toEqual([]);
  });

  it('cancels the directory call when the Lambda context runs out of time: 503, counted neither way', async () => {
    const { handler, directory, breaker } = world();
    directory.script = 'hang';
    // No time left beyond the response reserve: the call's deadline is 1 ms, far before the breaker's 200 ms timeout.
    const context = { awsRequestId: 'req-deadline', getRemainingTimeInMillis: () => RESPONSE_RESERVE_MS } as unknown as Context;
    const response = await handler(getUserEvent('demo-3'), context);
    expectJsonError(response, 503, 'DIRECTORY_UNAVAILABLE');
    expect(directory.calls).toEqual(['demo-3']);
    expect(await breaker.getState()).toMatchObject({ state: 'CLOSED', failures: 0 });
    expect(output.jsonLines().find((entry) => entry.message === 'request completed')).toMatchObject({ outcome: 'cancelled', state: 'CLOSED' });
  });

  it('opens after the threshold; then answers from the cache or 503 without calling the directory', async () => {
    const { handler, directory, users, breaker, clock } = world();
    await handler(getUserEvent('demo-1')); // cache demo-1
    directory.script = new DirectoryUnavailableError('status', 'user directory answered status 500', 500);
    clock.now += 1000;

    const failures = [await handler(getUserEvent('demo-1')), await handler(getUserEvent('demo-2'))];
    expect(failures.map((response) => response.statusCode)).toEqual([200, 503]);
    expect((await breaker.getState()).state).toBe('OPEN');
    // The failure that opened the circuit already knows how long it stays open.
    expect(failures[1].headers['retry-after']).toBe(String(OPEN_MS / 1000));
    const callsWhenOpened = directory.calls.length;

    clock.now += 2500;
    const cached = await handler(getUserEvent('demo-1'));
    expect(cached.statusCode).toBe(200);
    expect(cached.headers).toMatchObject({ 'x-user-source': 'cache', age: '3' });

    const uncached = await handler(getUserEvent('demo-2'));
    expectJsonError(uncached, 503, 'DIRECTORY_UNAVAILABLE');
    expect(uncached.headers['retry-after']).toBe(String(Math.ceil((OPEN_MS - 2500) / 1000)));
    expect(directory.calls).toHaveLength(callsWhenOpened);
    expect(users.items.has('demo-2')).toBe(false);

    const line = output.jsonLines().filter((entry) => entry.message === 'request completed').pop();
    expect(line).toMatchObject({ status: 503, outcome: 'rejected', state: 'OPEN' });
    expect(output.jsonLines()).toContainEqual(expect.objectContaining({ message: 'circuit state changed', from: 'CLOSED', state: 'OPEN' }));
  });

  it('closes again after the open period when the trial call succeeds, and serves fresh data', async () => {
    const { handler, directory, breaker, clock } = world();
    directory.script = new DirectoryUnavailableError('status', 'down', 503);
    await handler(getUserEvent('demo-1'));
    await handler(getUserEvent('demo-1'));
    expect((await breaker.getState()).state).toBe('OPEN');

    directory.script = found(grace);
    clock.now += OPEN_MS + 1;
    const response = await handler(getUserEvent('demo-2'));
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-user-source']).toBe('directory');
    expect(body(response)).toEqual(grace);
    expect((await breaker.getState()).state).toBe('CLOSED');
  });

  it('publishes one CloudWatch EMF line per request: how it was answered, the call, and the circuit opening and closing', async () => {
    const { handler, directory, clock } = world();
    const emf = () => output.jsonLines().filter((entry) => entry._aws !== undefined);
    const metricsOf = (entry: Record<string, unknown>) => {
      const { _aws, service, circuit, ...values } = entry as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> } };
      expect(_aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'test', Dimensions: [expect.arrayContaining(['service', 'circuit'])] });
      expect({ service, circuit }).toEqual({ service: 'test', circuit: 'user-directory' });
      return values;
    };

    await handler(getUserEvent('demo-1'));
    directory.script = new DirectoryUnavailableError('status', 'down', 503);
    await handler(getUserEvent('demo-1'));
    await handler(getUserEvent('demo-2')); // opens the circuit
    await handler(getUserEvent('demo-2')); // rejected
    directory.script = found(grace);
    clock.now += OPEN_MS + 1;
    await handler(getUserEvent('demo-2')); // the trial closes it

    const lines = emf().map(metricsOf);
    expect(lines).toEqual([
      { FreshAnswers: 1, DirectoryLatency: expect.any(Number) },
      { CachedAnswers: 1, DirectoryLatency: expect.any(Number), DirectoryCallFailures: 1 },
      { CircuitOpened: 1, UnavailableAnswers: 1, DirectoryLatency: expect.any(Number), DirectoryCallFailures: 1 },
      { UnavailableAnswers: 1, DirectoryCallsRejected: 1 },
      { CircuitClosed: 1, FreshAnswers: 1, DirectoryLatency: expect.any(Number) },
    ]);
  });

  it('a directory that hangs is cut off at the breaker timeout and counts as a failure', async () => {
    const { handler, directory, users } = world();
    users.items.set('demo-1', { ...ada, fetchedAt: T0 });
    directory.script = 'hang';
    const response = await handler(getUserEvent('demo-1'));
    expect(response.headers['x-user-source']).toBe('cache');
    expect(output.jsonLines().find((entry) => entry.message === 'request completed')).toMatchObject({ outcome: 'timeout' });
  });

  it('a directory refusing one request (4xx) is ignored by the breaker: the cached copy, else 502 DIRECTORY_REJECTED naming the status, no retry-after', async () => {
    const { handler, directory, users, breaker } = world();
    users.items.set('demo-1', { ...ada, fetchedAt: T0 });
    directory.script = new DirectoryRejectedError(400);
    for (let i = 0; i < 4; i += 1) {
      const response = await handler(getUserEvent('demo-9'));
      expectJsonError(response, 502, 'DIRECTORY_REJECTED');
      expect(response.headers).not.toHaveProperty('retry-after');
      expect((body(response).error as { message: string }).message).toBe(
        'The user directory refused the request for "demo-9" with status 400 and no cached copy could be served; retrying will not help until the directory\'s answer changes.',
      );
    }
    expect(output.jsonLines().filter((entry) => entry._aws !== undefined)[0]).toMatchObject({ DirectoryRejectedAnswers: 1 });
    expect((await handler(getUserEvent('demo-1'))).headers['x-user-source']).toBe('cache');
    expect((await breaker.getState()).state).toBe('CLOSED');
  });

  it('an over-large JSON record for one id (the directory client\'s InvalidDirectoryRecordError) never opens the circuit', async () => {
    const { handler, directory, breaker } = world();
    directory.script = new InvalidDirectoryRecordError('big-1', 'the record is over 65536 bytes');
    for (let i = 0; i < 5; i += 1) expectJsonError(await handler(getUserEvent('big-1')), 502, 'INVALID_DIRECTORY_RECORD');
    expect((await breaker.getState()).state).toBe('CLOSED');
  });

  it.each([
    ['null', null, 'null'],
    ['a string', 'hello', 'a string'],
    ['an array', [], 'an array'],
  ])('400 INVALID_REQUEST for a direct invocation whose event is %s', async (_label, event, got) => {
    const { handler, directory } = world();
    const response = await handler(event as never);
    expectJsonError(response, 400, 'INVALID_REQUEST');
    expect((body(response).error as { message: string }).message).toBe(
      `Invalid request: the event must be an API Gateway HTTP API (payload 2.0) request object, got ${got}.`,
    );
    expect(directory.calls).toEqual([]);
  });

  it('counts a 500 answer in InternalErrorAnswers', async () => {
    const { handler } = world({ getUser: () => Promise.reject(new TypeError('boom')) });
    expect((await handler(getUserEvent('demo-1'))).statusCode).toBe(500);
    expect(output.jsonLines().find((entry) => entry._aws !== undefined)).toMatchObject({ InternalErrorAnswers: 1 });
  });

  it('500 with a generic message and no internals when something unexpected throws', async () => {
    const { handler } = world({ getUser: () => Promise.reject(new TypeError("Cannot read properties of undefined (reading 'Item')")) });
    const response = await handler(getUserEvent('demo-1', 'req-500'));
    expectJsonError(response, 500, 'INTERNAL_ERROR');
    expect(response.body).not.toMatch(/Cannot read|TypeError|Item/);
    expect(body(response)).toEqual({ error: { code: 'INTERNAL_ERROR', message: 'An unexpected error occurred; quote request id req-500.' } });
    expect(output.jsonLines()).toContainEqual(
      expect.objectContaining({ message: 'request failed unexpectedly', requestId: 'req-500', error: { name: 'TypeError', message: expect.stringMatching(/Cannot read/) } }),
    );
  });
});

describe('request id', () => {
  it("prefers Lambda's request id and logs API Gateway's next to it", async () => {
    const { handler } = world();
    const output = captureOutput();
    let response;
    try {
      response = await handler(getUserEvent('demo-1', 'apigw-id'), { awsRequestId: 'lambda-id' } as Context);
    } finally {
      output.restore();
    }
    expect(response.headers['x-request-id']).toBe('lambda-id');
    expect(output.jsonLines()).toContainEqual(expect.objectContaining({ message: 'request completed', requestId: 'lambda-id', apiRequestId: 'apigw-id' }));
  });
});
