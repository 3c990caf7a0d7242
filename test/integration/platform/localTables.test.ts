import { DescribeTableCommand, DynamoDBClient, GetItemCommand, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDynalite, type RunningDynalite } from '../../../local/dynalite';
import { createTables, readTablesFromServerlessYml } from '../../../tools/serverless-config/tablesFromServerlessYml';

const clientFor = (endpoint: string): DynamoDBClient =>
  new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

describe("serverless.yml's tables in dynalite", () => {
  let dynamo: RunningDynalite;
  let client: DynamoDBClient;

  beforeEach(async () => {
    dynamo = await startDynalite();
    client = clientFor(dynamo.endpoint);
  });
  afterEach(async () => {
    client.destroy();
    await dynamo.stop();
  });

  it('are created with the deployed names and keys, ready for use at once', async () => {
    await createTables(client, readTablesFromServerlessYml({ stage: 'dev' }));

    const { TableNames } = await client.send(new ListTablesCommand({}));
    expect(TableNames?.sort()).toEqual(['simple-web-service-dev-circuit-breakers', 'simple-web-service-dev-users']);
    const { Table } = await client.send(new DescribeTableCommand({ TableName: 'simple-web-service-dev-users' }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    // dynalite has no streams and drops StreamSpecification; nothing local reads the stream.
  });

  it('are created again without error, keeping what an earlier run stored', async () => {
    const tables = readTablesFromServerlessYml({ stage: 'dev' });
    await createTables(client, tables);
    await client.send(new PutItemCommand({ TableName: 'simple-web-service-dev-users', Item: { id: { S: 'kept' } } }));

    await createTables(client, tables);

    const { Item } = await client.send(new GetItemCommand({ TableName: 'simple-web-service-dev-users', Key: { id: { S: 'kept' } } }));
    expect(Item).toEqual({ id: { S: 'kept' } });
  });
});

describe('a data directory', () => {
  let directory: string;
  beforeEach(() => (directory = mkdtempSync(path.join(os.tmpdir(), 'dynalite-data-'))));
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('keeps tables and items across a restart', async () => {
    const first = await startDynalite({ path: directory });
    const firstClient = clientFor(first.endpoint);
    await createTables(firstClient, readTablesFromServerlessYml({ stage: 'dev' }));
    await firstClient.send(new PutItemCommand({ TableName: 'simple-web-service-dev-users', Item: { id: { S: 'demo-1' } } }));
    firstClient.destroy();
    await first.stop();

    const second = await startDynalite({ path: directory });
    const secondClient = clientFor(second.endpoint);
    try {
      await createTables(secondClient, readTablesFromServerlessYml({ stage: 'dev' }));
      const { Item } = await secondClient.send(new GetItemCommand({ TableName: 'simple-web-service-dev-users', Key: { id: { S: 'demo-1' } } }));
      expect(Item).toEqual({ id: { S: 'demo-1' } });
    } finally {
      secondClient.destroy();
      await second.stop();
    }
  });
});
