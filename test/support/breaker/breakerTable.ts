/** A breaker state table on the integration DynamoDB backend (dynalite by default; see test/support/dynamoBackend.ts). */
import { Agent } from 'node:http';
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

/**
 * A client without keep-alive: on a loaded machine a pooled socket can sit idle past the server's keep-alive timeout
 * and be closed just as a request goes out ("socket hang up"), which fails a count that must not be retried (it may
 * have been applied). A connection per request makes the tests independent of the machine's speed.
 */
export function clientFor(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: { httpAgent: new Agent({ keepAlive: false }) },
  });
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
