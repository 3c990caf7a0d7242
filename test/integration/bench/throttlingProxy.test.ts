/**
 * The throttling proxy in front of a real dynalite, driven by a real SDK client: DynamoDB's per-item limits are
 * enforced with DynamoDB's own error, so the SDK throws ProvisionedThroughputExceededException by name. The
 * proxy's clock is injected, so refills happen only when the test moves it.
 */
import {
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { startDynalite, type RunningDynalite } from '../../../local/dynalite';
import { createBreakerTable, localClient } from '../../../bench/dynamo';
import { chargeFor, operationOf, startThrottlingProxy, THROTTLE_ERROR_TYPE, type RunningThrottlingProxy } from '../../../bench/throttlingProxy';

describe('chargeFor and operationOf', () => {
  it('charges 1 read unit strongly consistent, 0.5 eventually consistent, 1 write unit per write, per table and key', () => {
    const key = { id: { S: 'c' } };
    expect(chargeFor('GetItem', { TableName: 't', Key: key, ConsistentRead: true })).toEqual({ bucket: 't\u0000{"id":{"S":"c"}}', kind: 'read', units: 1 });
    expect(chargeFor('GetItem', { TableName: 't', Key: key })?.units).toBe(0.5);
    expect(chargeFor('GetItem', { TableName: 't', Key: key, ConsistentRead: false })?.units).toBe(0.5);
    expect(chargeFor('UpdateItem', { TableName: 't', Key: key, ConditionExpression: 'x' })).toEqual({ bucket: 't\u0000{"id":{"S":"c"}}', kind: 'write', units: 1 });
    expect(chargeFor('DeleteItem', { TableName: 't', Key: key })?.kind).toBe('write');
    expect(chargeFor('UpdateItem', { TableName: 'u', Key: key })?.bucket).not.toBe(chargeFor('UpdateItem', { TableName: 't', Key: key })?.bucket);
    // Attribute order in the key does not make a different item.
    expect(chargeFor('GetItem', { TableName: 't', Key: { a: { S: '1' }, b: { S: '2' } } })?.bucket).toBe(chargeFor('GetItem', { TableName: 't', Key: { b: { S: '2' }, a: { S: '1' } } })?.bucket);
    expect(chargeFor('CreateTable', { TableName: 't' })).toBeUndefined();
    expect(() => chargeFor('GetItem', { Key: key })).toThrow(/TableName or Key/);
    expect(operationOf('DynamoDB_20120810.UpdateItem')).toBe('UpdateItem');
    expect(operationOf(undefined)).toBe('unknown');
  });
});

describe('throttling proxy with a real SDK client and dynalite', () => {
  let dynamo: RunningDynalite;
  let proxy: RunningThrottlingProxy;
  let client: DynamoDBClient;
  let clock = 0;
  const table = 'proxy-test';

  const get = (id: string, consistent: boolean) => client.send(new GetItemCommand({ TableName: table, Key: { id: { S: id } }, ConsistentRead: consistent }));
  const failingConditionalAdd = (id: string) =>
    client.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { id: { S: id } },
        UpdateExpression: 'ADD #n :one',
        ConditionExpression: 'attribute_exists(#missing)',
        ExpressionAttributeNames: { '#n': 'n', '#missing': 'missing' },
        ExpressionAttributeValues: { ':one': { N: '1' } },
      }),
    );
  const add = (id: string) =>
    client.send(
      new UpdateItemCommand({ TableName: table, Key: { id: { S: id } }, UpdateExpression: 'ADD #n :one', ExpressionAttributeNames: { '#n': 'n' }, ExpressionAttributeValues: { ':one': { N: '1' } } }),
    );
  const errorOf = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (error: unknown) => error);

  beforeAll(async () => {
    dynamo = await startDynalite();
    proxy = await startThrottlingProxy({ target: dynamo.endpoint, now: () => clock });
    client = localClient(proxy.endpoint);
    await createBreakerTable(client, table);
  });
  afterAll(async () => {
    client.destroy();
    await proxy.stop();
    await dynamo.stop();
  });
  beforeEach(() => {
    clock = 0;
    proxy.setReachable(true);
    proxy.setLimits({ readUnitsPerSecond: 2, writeUnitsPerSecond: 2 });
    proxy.resetCounts();
  });

  it('throttles reads past the item limit with ProvisionedThroughputExceededException, by name and class', async () => {
    await get('a', true);
    await get('a', true);
    const error = await errorOf(get('a', true));
    expect(error).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect((error as Error).name).toBe('ProvisionedThroughputExceededException');
    expect((error as Error).message).toMatch(/provisioned throughput/);
    expect((error as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode).toBe(400);
    expect(proxy.counts().GetItem).toEqual({ requests: 3, forwarded: 2, throttled: 1, dropped: 0 });
  });

  it('charges eventually consistent reads half a unit, and refills with the clock', async () => {
    for (let i = 0; i < 4; i += 1) await get('b', false);
    expect(await errorOf(get('b', false))).toBeInstanceOf(ProvisionedThroughputExceededException);
    clock += 250; // 0.5 units at 2/s
    expect(await errorOf(get('b', false))).toBeUndefined();
    expect(await errorOf(get('b', false))).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(proxy.counts().GetItem).toEqual({ requests: 7, forwarded: 5, throttled: 2, dropped: 0 });
  });

  it('charges a write whose condition fails, keeps items apart, and keeps reads and writes apart', async () => {
    expect((await errorOf(failingConditionalAdd('c'))) as Error).toMatchObject({ name: 'ConditionalCheckFailedException' });
    await add('c');
    expect(await errorOf(add('c'))).toBeInstanceOf(ProvisionedThroughputExceededException);
    // Another item has its own units; reads of the same item have theirs.
    await add('d');
    await get('c', true);
    expect(proxy.counts().UpdateItem).toEqual({ requests: 4, forwarded: 3, throttled: 1, dropped: 0 });
    // The throttled ADD was not applied: the item holds the one ADD that got through.
    clock += 1_000;
    expect((await get('c', true)).Item?.n).toEqual({ N: '1' });
  });

  it('does not limit what has no limit', async () => {
    proxy.setLimits({});
    for (let i = 0; i < 10; i += 1) await get('e', true);
    expect(proxy.counts().GetItem?.throttled).toBe(0);
  });

  it('the throttle body is DynamoDB\'s JSON shape', async () => {
    proxy.setLimits({ readUnitsPerSecond: 1 });
    await get('f', true);
    const response = await fetch(proxy.endpoint, {
      method: 'POST',
      headers: { 'x-amz-target': 'DynamoDB_20120810.GetItem', 'content-type': 'application/x-amz-json-1.0' },
      body: JSON.stringify({ TableName: table, Key: { id: { S: 'f' } }, ConsistentRead: true }),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.0');
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['__type', 'message']);
    expect(body.__type).toBe(THROTTLE_ERROR_TYPE);
  });

  it('when unreachable, destroys connections: the request fails, is counted as dropped, and nothing is applied', async () => {
    await add('g');
    proxy.setReachable(false);
    const error = await errorOf(add('g'));
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).not.toBe('ProvisionedThroughputExceededException');
    proxy.setReachable(true);
    clock += 10_000;
    expect((await get('g', true)).Item?.n).toEqual({ N: '1' });
    expect(proxy.counts().UpdateItem).toEqual({ requests: 2, forwarded: 1, throttled: 0, dropped: 1 });
  });

  it('with the SDK\'s default retries, a throttled request reaches the proxy more than once (what maxAttempts 1 avoids)', async () => {
    const retrying = new DynamoDBClient({ endpoint: proxy.endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 3 });
    try {
      proxy.setLimits({ readUnitsPerSecond: 1 });
      await retrying.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'h' } }, ConsistentRead: true }));
      const error = await errorOf(retrying.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'h' } }, ConsistentRead: true })));
      expect(error).toBeInstanceOf(ProvisionedThroughputExceededException);
      expect(proxy.counts().GetItem).toEqual({ requests: 4, forwarded: 1, throttled: 3, dropped: 0 });
    } finally {
      retrying.destroy();
    }
  });
});
