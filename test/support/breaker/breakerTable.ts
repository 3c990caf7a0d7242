/** A breaker state table on the integration DynamoDB backend (dynalite by default; see test/support/dynamoBackend.ts). */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoBackend, type RunningDynamoBackend } from '../dynamoBackend';

export interface BreakerTable {
  backend: RunningDynamoBackend;
  endpoint: string;
  tableName: string;
  /** A client for the backend; each call makes a new one, all destroyed by stop(). */
  newClient(): DynamoDBClient;
  stop(): Promise<void>;
}

export function clientFor(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
}

export async function startBreakerTable(tableName = 'circuit-breakers'): Promise<BreakerTable> {
  const backend = await startDynamoBackend();
  const clients: DynamoDBClient[] = [];
  const newClient = () => {
    const client = clientFor(backend.endpoint);
    clients.push(client);
    return client;
  };
  await newClient().send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return {
    backend,
    endpoint: backend.endpoint,
    tableName,
    newClient,
    stop: async () => {
      for (const client of clients) client.destroy();
      await backend.stop();
    },
  };
}
