/**
 * The service the demo drives: the same components as `npm start` (dynalite with serverless.yml's tables, the
 * user-directory stub, serverless-offline running the real GetUser handler), on free ports, with the breaker's
 * serverless.yml params overridden so the incident fits in under a minute.
 *
 * Composed from local/'s parts because startLocalService takes no param overrides yet; once it does, this file
 * becomes one call to it.
 */
import { startDynalite } from '../local/dynalite';
import { freePort } from '../local/freePort';
import { startServerlessOffline } from '../local/serverlessOffline';
import { createTables, readTablesFromServerlessYml } from '../local/tablesFromServerlessYml';
import { startUserDirectoryStub, type RunningUserDirectoryStub } from '../local/userDirectoryStub';
import { localClient } from '../bench/dynamo';

const STAGE = 'dev';

export interface DemoService {
  apiUrl: string;
  directory: RunningUserDirectoryStub;
  dynamoEndpoint: string;
  breakerTableName: string;
  stop(): Promise<void>;
}

export async function startDemoService(params: Record<string, string>, onOutput?: (text: string) => void, signal?: AbortSignal): Promise<DemoService> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const stopOne of stops.splice(0).reverse()) await stopOne();
  };
  try {
    const tables = readTablesFromServerlessYml({ stage: STAGE });
    const breakerTable = tables.find((table) => table.logicalId === 'CircuitBreakers');
    if (!breakerTable?.input.TableName) throw new Error('serverless.yml declares no CircuitBreakers table');
    const dynamo = await startDynalite();
    stops.push(dynamo.stop);
    const client = localClient(dynamo.endpoint);
    try {
      await createTables(client, tables);
    } finally {
      client.destroy();
    }
    signal?.throwIfAborted();
    const directory = await startUserDirectoryStub({ port: 0 });
    stops.push(directory.stop);
    signal?.throwIfAborted();
    const offline = await startServerlessOffline({
      stage: STAGE,
      httpPort: await freePort(),
      lambdaPort: await freePort(),
      params: { ...params, userDirectoryUrl: directory.url },
      env: {
        DYNAMODB_ENDPOINT: dynamo.endpoint,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
      },
      ...(onOutput ? { onOutput } : {}),
      ...(signal ? { signal } : {}),
    });
    stops.push(offline.stop);
    return { apiUrl: offline.url, directory, dynamoEndpoint: dynamo.endpoint, breakerTableName: breakerTable.input.TableName, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
