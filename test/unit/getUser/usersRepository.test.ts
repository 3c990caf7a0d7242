import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createUsersRepository } from '../../../src/users/usersRepository';

const ada = { id: 'demo-1', name: 'Ada Lovelace', email: 'ada@example.com' };

describe('users repository (exact SDK commands)', () => {
  const client = new DynamoDBClient({ region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  // The repository talks through a DynamoDBDocumentClient made from `client`.
  const dynamo = mockClient(DynamoDBDocumentClient);
  const logger = { debug: jest.fn(), info: jest.fn(), warn: jest.fn(), error: jest.fn() };
  const repository = createUsersRepository({ client, tableName: 'users-table', timeoutMs: 250, logger });

  beforeEach(() => {
    dynamo.reset();
    jest.clearAllMocks();
  });
  afterAll(() => client.destroy());

  it('reads with GetItem (GetCommand) on the id key and returns the validated copy', async () => {
    dynamo.on(GetCommand).resolves({
      Item: { ...ada, fetchedAt: 1_700_000_000_000 },
    });
    await expect(repository.find('demo-1')).resolves.toEqual({ kind: 'found', user: { ...ada, fetchedAt: 1_700_000_000_000 } });
    expect(dynamo.commandCalls(GetCommand)[0].args[0].input).toEqual({ TableName: 'users-table', Key: { id: 'demo-1' } });
  });

  it('gives each call an abort signal (its time budget)', async () => {
    dynamo.on(GetCommand).resolves({});
    await repository.find('demo-1');
    const [, options] = dynamo.send.getCall(0).args as unknown as [unknown, { abortSignal?: AbortSignal }];
    expect(options.abortSignal).toBeDefined();
    expect(options.abortSignal?.aborted).toBe(false);
  });

  it('answers absent when there is no item', async () => {
    dynamo.on(GetCommand).resolves({});
    await expect(repository.find('demo-1')).resolves.toEqual({ kind: 'absent' });
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it.each([
    ['without fetchedAt', { ...ada }, /"fetchedAt"/],
    ['with a bad email', { ...ada, email: 'nope', fetchedAt: 1 }, /"email"/],
    ['under another id', { ...ada, id: 'demo-2', fetchedAt: 1 }, /does not match/],
  ])('treats an item %s as an unreadable copy (not as no copy) and logs it', async (_label, Item, problem) => {
    dynamo.on(GetCommand).resolves({ Item });
    await expect(repository.find('demo-1')).resolves.toEqual({ kind: 'unreadable', reason: 'malformed' });
    expect(logger.warn).toHaveBeenCalledWith(expect.stringMatching(/malformed item/), expect.objectContaining({ userId: 'demo-1', problem: expect.stringMatching(problem) }));
  });

  it('treats a failed read as an unreadable copy (the table may well hold one) and logs it', async () => {
    dynamo.on(GetCommand).rejects(new Error('throttled'));
    await expect(repository.find('demo-1')).resolves.toEqual({ kind: 'unreadable', reason: 'readFailed' });
    expect(logger.warn).toHaveBeenCalledWith(expect.stringMatching(/read failed/), expect.objectContaining({ error: { name: 'Error', message: 'throttled' } }));
  });

  it('writes with a PutItem (PutCommand) that only replaces an older copy', async () => {
    dynamo.on(PutCommand).resolves({});
    await repository.save({ ...ada, fetchedAt: 1_700_000_000_123 });
    expect(dynamo.commandCalls(PutCommand)[0].args[0].input).toEqual({
      TableName: 'users-table',
      Item: { ...ada, fetchedAt: 1_700_000_000_123 },
      ConditionExpression: 'attribute_not_exists(id) OR fetchedAt < :fetchedAt',
      ExpressionAttributeValues: { ':fetchedAt': 1_700_000_000_123 },
    });
  });

  it('swallows a failed write after logging it', async () => {
    dynamo.on(PutCommand).rejects(new Error('access denied to arn:aws:dynamodb:...'));
    await expect(repository.save({ ...ada, fetchedAt: 1 })).resolves.toBeUndefined();
    expect(logger.warn).toHaveBeenCalledWith(expect.stringMatching(/write failed/), expect.objectContaining({ userId: 'demo-1' }));
  });

  it('accepts losing the race to a newer copy quietly', async () => {
    dynamo.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'condition failed', $metadata: {} }));
    await expect(repository.save({ ...ada, fetchedAt: 1 })).resolves.toBeUndefined();
    expect(logger.warn).not.toHaveBeenCalled();
    expect(logger.debug).toHaveBeenCalledWith(expect.stringMatching(/newer copy/), { userId: 'demo-1' });
  });

  it('deletes with a DeleteItem (DeleteCommand) that spares a copy fetched at or after the 404 request started', async () => {
    dynamo.on(DeleteCommand).resolves({});
    await repository.remove('demo-1', 1_700_000_000_500);
    expect(dynamo.commandCalls(DeleteCommand)[0].args[0].input).toEqual({
      TableName: 'users-table',
      Key: { id: 'demo-1' },
      ConditionExpression: 'attribute_not_exists(fetchedAt) OR fetchedAt < :requestStartedAt',
      ExpressionAttributeValues: { ':requestStartedAt': 1_700_000_000_500 },
    });
  });

  it('keeps a newer copy quietly when the delete condition fails, and swallows other failures after logging them', async () => {
    dynamo.on(DeleteCommand).rejectsOnce(new ConditionalCheckFailedException({ message: 'condition failed', $metadata: {} }));
    await expect(repository.remove('demo-1', 1)).resolves.toBeUndefined();
    expect(logger.warn).not.toHaveBeenCalled();
    dynamo.on(DeleteCommand).rejects(new Error('throttled'));
    await expect(repository.remove('demo-1', 1)).resolves.toBeUndefined();
    expect(logger.warn).toHaveBeenCalledWith(expect.stringMatching(/delete failed/), expect.objectContaining({ userId: 'demo-1' }));
  });
});
