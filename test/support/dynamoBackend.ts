/**
 * The DynamoDB-compatible server an integration suite runs against, chosen by one setting:
 * DYNAMODB_BACKEND=dynalite (default: embedded, no Java) or DYNAMODB_BACKEND=dynamodb-local (Amazon's emulator, Java 17).
 * What differs between the two is asserted in test/integration/breaker/backendCapabilities.test.ts.
 */
import { startDynalite, type RunningDynalite } from '../../local/dynalite';
import { startDynamoDBLocal } from '../../local/dynamodbLocal';
import { recordStarted, recordStopped } from './dynamodbLocalRun/processRegistry';

export type DynamoBackendName = 'dynalite' | 'dynamodb-local';

export interface RunningDynamoBackend extends RunningDynalite {
  name: DynamoBackendName;
}

export function dynamoBackendName(env: NodeJS.ProcessEnv = process.env): DynamoBackendName {
  const value = env.DYNAMODB_BACKEND ?? 'dynalite';
  if (value !== 'dynalite' && value !== 'dynamodb-local') {
    throw new Error(`DYNAMODB_BACKEND must be "dynalite" or "dynamodb-local", got "${value}"`);
  }
  return value;
}

export async function startDynamoBackend(): Promise<RunningDynamoBackend> {
  const name = dynamoBackendName();
  if (name === 'dynalite') return { ...(await startDynalite()), name };
  const server = await startDynamoDBLocal();
  recordStarted(server.pid, server.endpoint);
  return {
    name,
    endpoint: server.endpoint,
    port: server.port,
    stop: async () => {
      await server.stop();
      recordStopped(server.pid);
    },
  };
}
