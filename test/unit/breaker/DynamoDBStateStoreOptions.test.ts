import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { BreakerConfigError, DynamoDBStateStore, type DynamoDBStateStoreOptions } from '../../../src/breaker';

const signal = new AbortController().signal;

describe('DynamoDBStateStore options', () => {
  test('keyAttr names the key in every request; default id', async () => {
    const client = new DynamoDBClient({ region: 'local' });
    const mock = mockClient(client);
    mock.on(GetItemCommand).resolves({});
    mock.on(UpdateItemCommand).resolves({ Attributes: { pk: { S: 'c' }, state: { S: 'CLOSED' }, version: { N: '0' } } });
    const keyed = new DynamoDBStateStore({ tableName: 'Shared', keyAttr: 'pk', client });
    await keyed.read('c', { abortSignal: signal });
    await keyed.releasePermit('c', { version: 1, slot: 0, token: 't' }, { abortSignal: signal });
    expect(mock.commandCalls(GetItemCommand)[0].args[0].input.Key).toEqual({ pk: { S: 'c' } });
    expect(mock.commandCalls(UpdateItemCommand)[0].args[0].input.Key).toEqual({ pk: { S: 'c' } });
    expect(new DynamoDBStateStore({ tableName: 'Shared', client }).keyAttr).toBe('id');
    mock.restore();
  });

  test('clientConfig builds the client with it, maxAttempts 1 unless it says otherwise', async () => {
    const store = new DynamoDBStateStore({ tableName: 'Shared', clientConfig: { region: 'eu-west-1', maxAttempts: 3 } });
    expect(await store.client.config.region()).toBe('eu-west-1');
    expect(await store.client.config.maxAttempts()).toBe(3);
    const defaults = new DynamoDBStateStore({ tableName: 'Shared', clientConfig: { region: 'eu-west-1' } });
    expect(await defaults.client.config.maxAttempts()).toBe(1);
    store.client.destroy();
    defaults.client.destroy();
  });

  test.each([
    ['keyAttr', 'empty', { tableName: 'Shared', keyAttr: '' }],
    ['keyAttr', 'a breaker attribute', { tableName: 'Shared', keyAttr: 'state' }],
    ['keyAttr', 'a counter name', { tableName: 'Shared', keyAttr: 'f_12' }],
    ['keyAttr', 'not a string', { tableName: 'Shared', keyAttr: 7 }],
    ['clientConfig', 'given with client', { tableName: 'Shared', client: new DynamoDBClient({}), clientConfig: { region: 'x' } }],
    ['clientConfig', 'not an object', { tableName: 'Shared', clientConfig: 'eu-west-1' }],
    ['client', 'not a client', { tableName: 'Shared', client: {} }],
  ])('a bad %s from JavaScript (%s) fails construction naming it', (option, _why, options) => {
    expect(() => new DynamoDBStateStore(options as unknown as DynamoDBStateStoreOptions)).toThrow(BreakerConfigError);
    expect(() => new DynamoDBStateStore(options as unknown as DynamoDBStateStoreOptions)).toThrow(`'${option}'`);
  });

  test('types: client and clientConfig together do not compile', () => {
    const client = new DynamoDBClient({});
    // @ts-expect-error client and clientConfig are exclusive
    const both: DynamoDBStateStoreOptions = { tableName: 'Shared', client, clientConfig: { region: 'x' } };
    const onlyClient: DynamoDBStateStoreOptions = { tableName: 'Shared', keyAttr: 'pk', client };
    const onlyConfig: DynamoDBStateStoreOptions = { tableName: 'Shared', clientConfig: { region: 'x' } };
    const neither: DynamoDBStateStoreOptions = { tableName: 'Shared' };
    expect([both, onlyClient, onlyConfig, neither]).toHaveLength(4);
  });
});
