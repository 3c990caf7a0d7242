import { GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { startDynalite, type RunningDynalite } from '../../../local/dynalite';
import { createBreakerTable, localClient } from '../../../bench/dynamo';
import { addCounts, countRequests, diffCounts, operationName, totalOf } from '../../../bench/requestCounter';

describe('operationName', () => {
  it('strips the SDK Command suffix', () => {
    expect(operationName('GetItemCommand')).toBe('GetItem');
    expect(operationName('Scan')).toBe('Scan');
    expect(operationName(undefined)).toBe('unknown');
  });
});

describe('count arithmetic', () => {
  it('diffs, adds and totals per operation', () => {
    expect(diffCounts({ GetItem: 5, PutItem: 2 }, { GetItem: 3, PutItem: 2 })).toEqual({ GetItem: 2 });
    expect(diffCounts({ GetItem: 1 }, {})).toEqual({ GetItem: 1 });
    expect(addCounts({ GetItem: 1 }, { GetItem: 2, UpdateItem: 1 }, {})).toEqual({ GetItem: 3, UpdateItem: 1 });
    expect(totalOf({ GetItem: 3, UpdateItem: 1 })).toBe(4);
  });
});

describe('countRequests (real client against dynalite)', () => {
  let dynamo: RunningDynalite;
  let client: DynamoDBClient;
  const table = 'counter-test';

  beforeAll(async () => {
    dynamo = await startDynalite();
    client = localClient(dynamo.endpoint);
    await createBreakerTable(client, table);
  });
  afterAll(async () => {
    client.destroy();
    await dynamo.stop();
  });

  it('counts every request by operation, including DocumentClient commands and failed requests', async () => {
    const counter = countRequests(client);
    const doc = DynamoDBDocumentClient.from(client);
    await client.send(new PutItemCommand({ TableName: table, Item: { id: { S: 'a' } } }));
    await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'a' } } }));
    await doc.send(new GetCommand({ TableName: table, Key: { id: 'a' } }));
    await doc.send(new UpdateCommand({ TableName: table, Key: { id: 'a' }, UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': 1 } }));
    await expect(
      client.send(new PutItemCommand({ TableName: table, Item: { id: { S: 'a' } }, ConditionExpression: 'attribute_not_exists(id)' })),
    ).rejects.toThrow();
    expect(counter.counts()).toEqual({ PutItem: 2, GetItem: 2, UpdateItem: 1 });
    expect(counter.total()).toBe(5);
    counter.detach();
  });

  it('counts concurrent requests exactly', async () => {
    const counter = countRequests(client);
    await Promise.all(Array.from({ length: 50 }, () => client.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'a' } } }))));
    expect(counter.counts()).toEqual({ GetItem: 50 });
    counter.detach();
  });

  it('reset starts from zero; detach stops counting; two counters count independently', async () => {
    const first = countRequests(client);
    const second = countRequests(client);
    const get = () => client.send(new GetItemCommand({ TableName: table, Key: { id: { S: 'a' } } }));
    await get();
    first.reset();
    await get();
    expect(first.counts()).toEqual({ GetItem: 1 });
    expect(second.counts()).toEqual({ GetItem: 2 });
    first.detach();
    await get();
    expect(first.total()).toBe(1);
    expect(second.total()).toBe(3);
    second.detach();
  });
});
