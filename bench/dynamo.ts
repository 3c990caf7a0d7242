/** The bench's DynamoDB client and breaker table, pointed at a dynalite server it started itself. */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';

export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    // The bench counts requests; a retried request would hide a failure behind a second one.
    maxAttempts: 1,
  });
}

/** The circuit-breaker table as serverless.yml declares it: hash key `id` (S), on demand. */
export async function createBreakerTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}
