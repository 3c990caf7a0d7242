/** Pins the exact DynamoDB requests: conditions on every transition, ADD for counts, a whole-item write only for an item too large to update. */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { BreakerConfigError, CircuitBreaker, DynamoDBStateStore } from '../../../src/breaker';
import { ManualClock } from '../../support/breaker/clock';

const ddb = mockClient(DynamoDBClient);
const TABLE = 'breakers';

/** The expression with placeholders replaced by names and values, so assertions read like the request. */
function rendered(input: UpdateItemCommandInput | undefined): { update: string; condition: string } {
  const names = input?.ExpressionAttributeNames ?? {};
  const values = input?.ExpressionAttributeValues ?? {};
  const render = (expression = '') =>
    expression
      .replace(/#n\d+/g, (p) => names[p])
      .replace(/:v\d+/g, (p) => {
        const v = values[p];
        return v.S !== undefined ? `'${v.S}'` : v.N !== undefined ? v.N : JSON.stringify(v);
      });
  return { update: render(input?.UpdateExpression), condition: render(input?.ConditionExpression) };
}

/** The permit token a request sets (the one map value it carries). */
function tokenIn(input: UpdateItemCommandInput): string {
  const token = Object.values(input.ExpressionAttributeValues ?? {}).find((v) => v.M)?.M?.tok?.S;
  if (token === undefined) throw new Error('request sets no permit');
  return token;
}

function updates(): UpdateItemCommandInput[] {
  return ddb.commandCalls(UpdateItemCommand).map((call) => call.args[0].input);
}

function make(clock: ManualClock, overrides: Record<string, unknown> = {}) {
  const store = new DynamoDBStateStore({ tableName: TABLE, client: new DynamoDBClient({ region: 'local' }) });
  return new CircuitBreaker({ name: 'c', store, now: clock.now, failureThreshold: 2, openMs: 1_000, random: () => 0, halfOpenMaxCalls: 2, halfOpenSuccessThreshold: 1, ...overrides });
}

const item = (fields: Record<string, unknown>) => marshall({ id: 'c', ...fields });

beforeEach(() => ddb.reset());
// Every kind of write is made somewhere in this file: none may forget to ask for the item on a failed condition.
afterEach(() => {
  for (const input of updates()) expect(input.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
});

describe('DynamoDBStateStore requests', () => {
  test('reads are strongly consistent, on the hash key id', async () => {
    ddb.on(GetItemCommand).resolves({});
    await make(new ManualClock()).getState();
    expect(ddb.commandCalls(GetItemCommand)[0].args[0].input).toEqual({ TableName: TABLE, Key: { id: { S: 'c' } }, ConsistentRead: true });
  });

  test('a read with consistent: false is eventually consistent; the default stays strongly consistent', async () => {
    ddb.on(GetItemCommand).resolves({});
    const store = new DynamoDBStateStore({ tableName: TABLE, client: new DynamoDBClient({ region: 'local' }) });
    await store.read('c', { abortSignal: new AbortController().signal, consistent: false });
    await store.read('c', { abortSignal: new AbortController().signal });
    expect(ddb.commandCalls(GetItemCommand).map((call) => call.args[0].input.ConsistentRead)).toEqual([false, true]);
  });

  test('recordCount ADDs every increment in one write and removes the stale counters not among them', async () => {
    ddb.on(UpdateItemCommand).resolves({ Attributes: item({ state: 'CLOSED', version: 0 }) });
    const store = new DynamoDBStateStore({ tableName: TABLE, client: new DynamoDBClient({ region: 'local' }) });
    await store.recordCount('c', { increments: { f_100: 2, s_100: 5 }, staleCounters: ['f_0', 'f_100'], now: 150 }, { abortSignal: new AbortController().signal });
    expect(rendered(updates()[0]).update).toBe("SET state = if_not_exists(state, 'CLOSED'), version = if_not_exists(version, 0), updatedAt = 150 ADD f_100 2, s_100 5 REMOVE f_0");
  });

  test('a close SETs closedAt (the fleet ramps from it) and removes the opening details and every s_/f_ counter it names', async () => {
    ddb.on(UpdateItemCommand).resolves({ Attributes: item({ state: 'CLOSED', version: 6, closedAt: 900 }) });
    const store = new DynamoDBStateStore({ tableName: TABLE, client: new DynamoDBClient({ region: 'local' }) });
    const result = await store.transition(
      'c',
      { from: { version: 5, state: 'HALF_OPEN' }, to: 'CLOSED', version: 6, backoffStep: 0, remove: ['f_600', 's_600', 'p_0'], closedAt: 900, now: 900 },
      { abortSignal: new AbortController().signal },
    );
    expect(result.record).toMatchObject({ state: 'CLOSED', closedAt: 900 });
    expect(rendered(updates()[0]).update).toBe(
      "SET state = 'CLOSED', version = 6, backoffStep = 0, trialSuccesses = 0, updatedAt = 900, closedAt = 900 REMOVE openUntil, expiresAt, openedAt, openReason, openFailures, openCalls, f_600, s_600, p_0",
    );
  });

  test('a transition on an item too large to update is one conditional PutItem of the whole new item', async () => {
    ddb.on(UpdateItemCommand).rejects(Object.assign(new Error('Item size to update has exceeded the maximum allowed size'), { name: 'ValidationException' }));
    ddb.on(PutItemCommand).resolves({});
    const store = new DynamoDBStateStore({ tableName: TABLE, client: new DynamoDBClient({ region: 'local' }) });
    const result = await store.transition(
      'c',
      { from: { version: 3, state: 'CLOSED' }, to: 'OPEN', version: 4, openUntil: 500, backoffStep: 0, remove: ['f_0'], opening: { openedAt: 100, openReason: 'failureThreshold', openFailures: 5 }, now: 100 },
      { abortSignal: new AbortController().signal },
    );
    expect(result).toMatchObject({ applied: true, record: { state: 'OPEN', version: 4, openUntil: 500 } });
    const put = ddb.commandCalls(PutItemCommand)[0].args[0].input;
    expect(put.ConditionExpression).toBe('#n0 = :v0 AND #n1 = :v1');
    expect(put.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
    expect(put.Item).toEqual(marshall({ id: 'c', state: 'OPEN', version: 4, backoffStep: 0, trialSuccesses: 0, updatedAt: 100, openUntil: 500, openedAt: 100, openReason: 'failureThreshold', openFailures: 5 }));
  });

  test('a healthy call with a fresh cache makes no request; a healthy call never writes', async () => {
    ddb.on(GetItemCommand).resolves({ Item: item({ state: 'CLOSED', version: 3 }) });
    const breaker = make(new ManualClock());
    for (let i = 0; i < 5; i++) await breaker.execute(async () => 'ok');
    expect(ddb.calls()).toHaveLength(1);
    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(0);
  });

  test('a failure is one ADD to the bucket, conditional on a counting state, returning ALL_NEW, never a put', async () => {
    const clock = new ManualClock(1_200_000);
    ddb.on(GetItemCommand).resolves({ Item: item({ state: 'CLOSED', version: 3, f_900000: 1 }) });
    ddb.on(UpdateItemCommand).resolves({ Attributes: item({ state: 'CLOSED', version: 3, f_1200000: 1 }) });
    await make(clock).execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    const [input] = updates();
    expect(input.ReturnValues).toBe('ALL_NEW');
    expect(rendered(input)).toEqual({
      update: "SET state = if_not_exists(state, 'CLOSED'), version = if_not_exists(version, 0), updatedAt = 1200000, expiresAt = 606000 ADD f_1200000 1 REMOVE f_900000",
      // Counted only in the period the call was admitted in (version 3, read before the call).
      condition: "(attribute_not_exists(state) OR NOT (state IN ('OPEN', 'HALF_OPEN', 'FORCED_OPEN'))) AND version = 3",
    });
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
  });

  test('reaching the threshold opens with a write conditional on the state and version it leaves', async () => {
    const clock = new ManualClock(1_200_000);
    ddb.on(GetItemCommand).resolves({ Item: item({ state: 'CLOSED', version: 3, f_1200000: 1 }) });
    ddb.on(UpdateItemCommand)
      .resolvesOnce({ Attributes: item({ state: 'CLOSED', version: 3, f_1200000: 2 }) })
      .resolvesOnce({ Attributes: item({ state: 'OPEN', version: 4, openUntil: 1_201_000 }) });
    await make(clock).execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    const transition = rendered(updates()[1]);
    expect(transition.condition).toBe("version = 3 AND state = 'CLOSED'");
    expect(transition.update).toBe("SET state = 'OPEN', version = 4, backoffStep = 0, trialSuccesses = 0, updatedAt = 1200000, openUntil = 1201000, expiresAt = 606000, openedAt = 1200000, openReason = 'failureThreshold', openFailures = 2 REMOVE openCalls, f_1200000, p_0, p_1");
  });

  test('every conditional write asks for the item on a failed condition (ALL_OLD)', async () => {
    const clock = new ManualClock(1_200_000);
    ddb.on(GetItemCommand).resolves({ Item: item({ state: 'CLOSED', version: 3, f_1200000: 1 }) });
    ddb.on(UpdateItemCommand)
      .resolvesOnce({ Attributes: item({ state: 'CLOSED', version: 3, f_1200000: 2 }) })
      .resolvesOnce({ Attributes: item({ state: 'OPEN', version: 4, openUntil: 1_201_000 }) })
      .resolvesOnce({ Attributes: item({ state: 'FORCED_OPEN', version: 5 }) });
    const breaker = make(clock);
    await breaker.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    await breaker.forceOpen();
    expect(updates()).toHaveLength(3); // a failure count, the opening, an override
    for (const input of updates()) expect(input).toMatchObject({ ConditionExpression: expect.any(String), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' });
  });

  /** A failure reaching the threshold whose opening write loses to another instance's; `winner` is what it finds. */
  function loseTheOpeningRace(lost: ConditionalCheckFailedException) {
    const clock = new ManualClock(1_200_000);
    ddb.on(GetItemCommand)
      .resolvesOnce({ Item: item({ state: 'CLOSED', version: 3, f_1200000: 1 }) })
      .resolves({ Item: item({ state: 'OPEN', version: 4, openUntil: 1_205_000 }) });
    ddb.on(UpdateItemCommand)
      .resolvesOnce({ Attributes: item({ state: 'CLOSED', version: 3, f_1200000: 2 }) })
      .rejectsOnce(lost);
    return make(clock);
  }

  test('a lost race whose exception carries the item (DynamoDB) learns the winner from it, with no read', async () => {
    const winner = item({ state: 'OPEN', version: 4, openUntil: 1_207_000 });
    const breaker = loseTheOpeningRace(new ConditionalCheckFailedException({ message: 'no', $metadata: {}, Item: winner }));
    await breaker.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(1); // the read before the call, none after the lost race
    await expect(breaker.execute(async () => 'ok')).rejects.toMatchObject({ state: 'OPEN', retryAfterMs: 7_000 });
    expect(ddb.commandCalls(GetItemCommand)).toHaveLength(1);
  });

  test('a lost race whose exception carries no item (dynalite) learns the winner with one consistent read', async () => {
    const breaker = loseTheOpeningRace(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    await breaker.execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    const reads = ddb.commandCalls(GetItemCommand);
    expect(reads).toHaveLength(2);
    expect(reads[1].args[0].input).toMatchObject({ Key: { id: { S: 'c' } }, ConsistentRead: true });
    await expect(breaker.execute(async () => 'ok')).rejects.toMatchObject({ state: 'OPEN', retryAfterMs: 5_000 });
  });

  test('the first prober moves OPEN -> HALF_OPEN and takes slot 0 in one conditional write', async () => {
    const clock = new ManualClock(2_000_000);
    ddb.on(GetItemCommand).resolves({ Item: item({ state: 'OPEN', version: 4, openUntil: 2_000_000, backoffStep: 1 }) });
    ddb.on(UpdateItemCommand)
      .callsFakeOnce((input: UpdateItemCommandInput) => ({
        Attributes: item({ state: 'HALF_OPEN', version: 5, backoffStep: 1, p_0: { exp: 2_004_000, tok: tokenIn(input) } }),
      }))
      .resolvesOnce({ Attributes: item({ state: 'HALF_OPEN', version: 5, backoffStep: 1, trialSuccesses: 1 }) });
    await make(clock, { halfOpenSuccessThreshold: 2 }).execute(async () => 'ok');
    expect(updates()).toHaveLength(2);
    const [probe, success] = updates().map(rendered);
    expect(probe.condition).toBe("version = 4 AND state = 'OPEN'");
    expect(probe.update).toMatch(/^SET state = 'HALF_OPEN', version = 5, backoffStep = 1, trialSuccesses = 0, updatedAt = 2000000, expiresAt = 606800, p_0 = \{"M":.*\} REMOVE openUntil, p_1$/);
    expect(success.condition).toMatch(/^state = 'HALF_OPEN' AND version = 5 AND p_0\.tok = '[0-9a-f-]{36}'$/);
    expect(success.update).toBe('ADD trialSuccesses 1 REMOVE p_0');
  });

  test('a permit is taken only if free or expired, in the half-open period seen', async () => {
    const clock = new ManualClock(3_000_000);
    ddb.on(GetItemCommand).resolves({ Item: item({ state: 'HALF_OPEN', version: 5, p_0: { exp: 3_003_000, tok: 'other' } }) });
    ddb.on(UpdateItemCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));
    await make(clock).execute(async () => 'ok').catch(() => undefined);
    const acquire = rendered(updates()[0]);
    expect(acquire.condition).toBe("state = 'HALF_OPEN' AND version = 5 AND (attribute_not_exists(p_1) OR p_1.exp < 3000000)");
    expect(acquire.update).toMatch(/^SET p_1 = /);
  });

  test('a failed trial reopens on the version it ran in, only while it still holds its permit, one backoff step up', async () => {
    const clock = new ManualClock(3_000_000);
    ddb.on(GetItemCommand).resolves({ Item: item({ state: 'HALF_OPEN', version: 5, backoffStep: 1 }) });
    let token = '';
    ddb.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => {
      token ||= tokenIn(input);
      return { Attributes: item({ state: 'HALF_OPEN', version: 5, backoffStep: 1, p_0: { exp: 3_004_000, tok: token } }) };
    });
    await make(clock).execute(() => Promise.reject(new Error('x'))).catch(() => undefined);
    const reopen = rendered(updates()[1]);
    expect(reopen.condition).toBe(`(version = 5 AND state = 'HALF_OPEN') AND p_0.tok = '${token}'`);
    expect(reopen.update).toMatch(/^SET state = 'OPEN', version = 6, backoffStep = 2, trialSuccesses = 0, updatedAt = 3000000, openUntil = 3004000, expiresAt = 607800, openedAt = 3000000, openReason = 'trialFailed', openFailures = 0 REMOVE openCalls, p_0, p_1$/);
  });

  test('an exempt error in a trial frees the slot only if it still holds the token', async () => {
    const clock = new ManualClock(3_000_000);
    ddb.on(GetItemCommand).resolves({ Item: item({ state: 'HALF_OPEN', version: 5 }) });
    let token = '';
    ddb.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => {
      token ||= tokenIn(input);
      return { Attributes: item({ state: 'HALF_OPEN', version: 5, p_0: { exp: 3_004_000, tok: token } }) };
    });
    await make(clock, { isFailure: () => false }).execute(() => Promise.reject(new Error('404'))).catch(() => undefined);
    expect(rendered(updates()[1])).toEqual({ update: 'REMOVE p_0', condition: `p_0.tok = '${token}'` });
  });

  test('overrides are transitions guarded by the version read; a missing item is guarded as such', async () => {
    ddb.on(GetItemCommand).resolves({});
    ddb.on(UpdateItemCommand).resolves({ Attributes: item({ state: 'FORCED_OPEN', version: 1 }) });
    await make(new ManualClock(5)).forceOpen();
    const force = rendered(updates()[0]);
    expect(force.condition).toBe("attribute_not_exists(version) OR NOT attribute_type(version, 'N')");
    expect(force.update).toBe("SET state = 'FORCED_OPEN', version = 1, backoffStep = 0, trialSuccesses = 0, updatedAt = 5 REMOVE openUntil, expiresAt, p_0, p_1");
  });

  test('every request carries an abort signal (the breaker budget)', async () => {
    ddb.on(GetItemCommand).resolves({});
    await make(new ManualClock()).getState();
    const sendSpy = jest.spyOn(DynamoDBClient.prototype, 'send');
    await make(new ManualClock()).getState();
    expect(sendSpy.mock.calls[0][1]).toMatchObject({ abortSignal: expect.any(AbortSignal) });
    sendSpy.mockRestore();
  });

  test('undecodable attributes make the item malformed, not the read crash', async () => {
    ddb.on(GetItemCommand).resolves({ Item: { id: { S: 'c' }, state: { S: 'OPEN' }, version: { N: '99999999999999999999999' } } });
    const state = await make(new ManualClock()).getState();
    expect(state).toMatchObject({ state: 'CLOSED', version: null });
    expect(state.problems).toContain('version is not a non-negative integer');
  });

  test('a bad table name is a config error naming tableName', () => {
    expect(() => new DynamoDBStateStore({ tableName: 'x' })).toThrow(BreakerConfigError);
    expect(() => new DynamoDBStateStore({ tableName: 'x' })).toThrow(/'tableName'/);
  });
});
