/**
 * Where the integration backends differ, asserted per backend: what each does with ReturnValuesOnConditionCheckFailure,
 * TransactWriteItems and the TTL API. DynamoDBStateStore uses only the first, and only when the backend honours it
 * (see lostRace.test.ts), and writes a TTL attribute that only a table with TTL enabled acts on (itemExpiry.test.ts);
 * nothing uses transactions.
 * Run with DYNAMODB_BACKEND=dynalite (npm test) and DYNAMODB_BACKEND=dynamodb-local (npm run test:dynamodb-local).
 */
import {
  DescribeTimeToLiveCommand,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  UpdateTimeToLiveCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { startBreakerTable, type BreakerTable } from '../../support/breaker/breakerTable';
import { dynamoBackendName, type DynamoBackendName } from '../../support/dynamoBackend';

let table: BreakerTable;
let itemSeq = 0;
const backend: DynamoBackendName = dynamoBackendName();

beforeAll(async () => {
  table = await startBreakerTable();
});
afterAll(async () => {
  await table?.stop();
});

/** Resolves with the command's output, or with the error it failed with (name and the fields asserted on). */
async function outcome(send: () => Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    const { $metadata: _, ...output } = (await send()) as Record<string, unknown>;
    return { ok: output };
  } catch (error) {
    const { name, Item, CancellationReasons } = error as Record<string, unknown>;
    return { error: { name, Item, CancellationReasons } };
  }
}

async function putItem(fields: Record<string, AttributeValue>): Promise<Record<string, AttributeValue>> {
  const item = { id: { S: `item-${++itemSeq}` }, ...fields };
  await table.newClient().send(new PutItemCommand({ TableName: table.tableName, Item: item }));
  return item;
}

async function getItem(id: string): Promise<Record<string, AttributeValue> | undefined> {
  return (await table.newClient().send(new GetItemCommand({ TableName: table.tableName, Key: { id: { S: id } }, ConsistentRead: true }))).Item;
}

/** SET version = 2 if version = 2: fails on an item at version 1 and on a missing item. */
const failingUpdate = (id: string) =>
  new UpdateItemCommand({
    TableName: table.tableName,
    Key: { id: { S: id } },
    UpdateExpression: 'SET version = :two',
    ConditionExpression: 'version = :two',
    ExpressionAttributeValues: { ':two': { N: '2' } },
    ReturnValues: 'ALL_NEW',
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  });

describe(`${backend}: ReturnValuesOnConditionCheckFailure ALL_OLD`, () => {
  test('on an existing item, the failed condition returns the item (dynamodb-local) or nothing (dynalite ignores it)', async () => {
    const item = await putItem({ state: { S: 'OPEN' }, version: { N: '1' } });
    const expected = { 'dynamodb-local': item, dynalite: undefined }[backend];
    expect(await outcome(() => table.newClient().send(failingUpdate(item.id.S as string)))).toEqual({
      error: { name: 'ConditionalCheckFailedException', Item: expected, CancellationReasons: undefined },
    });
  });

  test('on a missing item, both return nothing (so the store still needs its read fallback on real DynamoDB)', async () => {
    expect(await outcome(() => table.newClient().send(failingUpdate('never-written')))).toEqual({
      error: { name: 'ConditionalCheckFailedException', Item: undefined, CancellationReasons: undefined },
    });
  });

  test('an invalid value is rejected (dynamodb-local) or ignored (dynalite)', async () => {
    const item = await putItem({ version: { N: '1' } });
    const invalid = failingUpdate(item.id.S as string);
    (invalid.input as { ReturnValuesOnConditionCheckFailure: string }).ReturnValuesOnConditionCheckFailure = 'EVERYTHING';
    const expected = { 'dynamodb-local': 'ValidationException', dynalite: 'ConditionalCheckFailedException' }[backend];
    expect(await outcome(() => table.newClient().send(invalid))).toMatchObject({ error: { name: expected } });
  });
});

describe(`${backend}: TransactWriteItems`, () => {
  const setMark = (id: string, mark: string) => ({
    Update: { TableName: table.tableName, Key: { id: { S: id } }, UpdateExpression: 'SET mark = :m', ExpressionAttributeValues: { ':m': { S: mark } } },
  });

  test('applies every write (dynamodb-local) or is an unknown operation that writes nothing (dynalite)', async () => {
    const [a, b] = [await putItem({}), await putItem({})];
    const result = await outcome(() => table.newClient().send(new TransactWriteItemsCommand({ TransactItems: [setMark(a.id.S as string, 'x'), setMark(b.id.S as string, 'x')] })));
    const marked = { mark: { S: 'x' } };
    const expected = {
      'dynamodb-local': { result: { ok: {} }, a: { ...a, ...marked }, b: { ...b, ...marked } },
      dynalite: { result: { error: { name: 'UnknownOperationException', Item: undefined, CancellationReasons: undefined } }, a, b },
    }[backend];
    expect({ result, a: await getItem(a.id.S as string), b: await getItem(b.id.S as string) }).toEqual(expected);
  });

  test('a failed condition cancels the whole transaction and names which item failed (dynamodb-local only)', async () => {
    const [a, b] = [await putItem({}), await putItem({ version: { N: '1' } })];
    const check = {
      ConditionCheck: { TableName: table.tableName, Key: { id: b.id }, ConditionExpression: 'version = :two', ExpressionAttributeValues: { ':two': { N: '2' } } },
    };
    const result = await outcome(() => table.newClient().send(new TransactWriteItemsCommand({ TransactItems: [setMark(a.id.S as string, 'y'), check] })));
    const expected = {
      'dynamodb-local': { name: 'TransactionCanceledException', Item: undefined, CancellationReasons: [{ Code: 'None' }, { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed.' }] },
      dynalite: { name: 'UnknownOperationException', Item: undefined, CancellationReasons: undefined },
    }[backend];
    expect(result).toEqual({ error: expected });
    expect(await getItem(a.id.S as string)).toEqual(a);
  });
});

describe(`${backend}: the TTL API`, () => {
  test('DescribeTimeToLive answers DISABLED (both); UpdateTimeToLive enables TTL (dynamodb-local) or is an unknown operation (dynalite)', async () => {
    const client = table.newClient();
    const describe = () => outcome(() => client.send(new DescribeTimeToLiveCommand({ TableName: table.tableName })));
    const before = await describe();
    const update = await outcome(() => client.send(new UpdateTimeToLiveCommand({ TableName: table.tableName, TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' } })));
    const after = await describe();
    const disabled = { ok: { TimeToLiveDescription: { TimeToLiveStatus: 'DISABLED' } } };
    const expected = {
      'dynamodb-local': {
        before: disabled,
        update: { ok: { TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAt' } } },
        after: { ok: { TimeToLiveDescription: { TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' } } },
      },
      dynalite: {
        before: disabled,
        update: { error: { name: 'UnknownOperationException', Item: undefined, CancellationReasons: undefined } },
        after: disabled,
      },
    }[backend];
    expect({ before, update, after }).toEqual(expected);
  });
});
