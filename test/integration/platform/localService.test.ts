/**
 * The whole local run (what `npm start` starts) on free ports: dynalite with serverless.yml's tables, the
 * user-directory stub, and serverless-offline serving the real GetUser handler.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { createServer, type Server } from 'node:net';
import { freePort } from '../../../local/freePort';
import { startLocalService, type RunningLocalServiceWithStub } from '../../../local/localService';
import { livingGroupMembers } from '../../../local/processGroup';

const START_TIMEOUT_MS = 90_000;

/** The living processes of serverless-offline's group (it and the esbuild service it starts). */
function offlineProcesses(groupId: number): number[] {
  const members = livingGroupMembers(groupId);
  if (!members) throw new Error('this test reads /proc and needs Linux');
  return members;
}

async function portIsFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('the local service', () => {
  let service: RunningLocalServiceWithStub;
  let apiPort: number;

  beforeAll(async () => {
    apiPort = await freePort();
    service = await startLocalService({ port: apiPort, directoryPort: 0, lambdaPort: 0 });
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await service?.stop();
  });

  it('serves GET /user/demo-1 through the real GetUser handler, fresh from the user directory', async () => {
    expect(service.apiUrl).toBe(`http://127.0.0.1:${apiPort}`);

    const response = await fetch(`${service.apiUrl}/user/demo-1`);

    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect({ status: response.status, body: await response.json() }).toEqual({
      status: 200,
      body: expect.objectContaining({ id: 'demo-1', name: expect.any(String), email: expect.any(String) }),
    });
    expect(response.headers.get('x-user-source')).toBe('directory');
    // The handler reached the stub at the URL the local run passed it, not serverless.yml's dev URL.
    expect(service.directory.stats().requests).toBeGreaterThanOrEqual(1);
  });

  it('keeps the copy in the Users table of the local DynamoDB, under the name serverless.yml gives it', async () => {
    await fetch(`${service.apiUrl}/user/demo-2`).then((response) => response.arrayBuffer());
    const client = new DynamoDBClient({
      endpoint: service.dynamoEndpoint,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      expect(service.tables.Users).toBe('simple-web-service-dev-users');
      const { Item } = await client.send(new GetItemCommand({ TableName: service.tables.Users, Key: { id: { S: 'demo-2' } } }));
      expect(Item?.id).toEqual({ S: 'demo-2' });
    } finally {
      client.destroy();
    }
  });

  it('stops every process and port it started', async () => {
    const ports = [apiPort, Number(new URL(service.directoryUrl).port), Number(new URL(service.dynamoEndpoint).port)];
    expect(offlineProcesses(service.offlinePid)).toContain(service.offlinePid);

    await service.stop();

    expect(offlineProcesses(service.offlinePid)).toEqual([]);
    for (const port of ports) expect([port, await portIsFree(port)]).toEqual([port, true]);
  });
});

describe('the local service with serverless.yml params overridden', () => {
  let service: RunningLocalServiceWithStub;

  beforeAll(async () => {
    // dev opens after 5 failures, on the item "user-directory"; these overrides make one failure open "overridden".
    service = await startLocalService({ port: 0, directoryPort: 0, lambdaPort: 0, params: { breakerName: 'overridden', breakerFailureThreshold: '1' } });
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await service?.stop();
  });

  it('passes the overrides to the handler: one failure opens the circuit named by the override', async () => {
    service.directory.setMode({ kind: 'down' });

    const response = await fetch(`${service.apiUrl}/user/demo-1`);
    await response.arrayBuffer();

    expect(response.status).toBe(503);
    const client = new DynamoDBClient({
      endpoint: service.dynamoEndpoint,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const read = async (id: string) =>
        (await client.send(new GetItemCommand({ TableName: service.tables.CircuitBreakers, Key: { id: { S: id } }, ConsistentRead: true }))).Item;
      expect((await read('overridden'))?.state).toEqual({ S: 'OPEN' });
      expect(await read('user-directory')).toBeUndefined();
    } finally {
      client.destroy();
    }
  });

  it('still points the handler at the stub, which cannot be overridden', async () => {
    expect(service.directory.stats().requests).toBeGreaterThanOrEqual(1);
    await expect(startLocalService({ port: 0, directoryPort: 0, params: { userDirectoryUrl: 'http://example.com' } })).rejects.toThrow(
      'params.userDirectoryUrl cannot be overridden',
    );
  });
});

describe('the local service, when the API port is taken', () => {
  let blocker: Server;
  let port: number;

  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    port = (blocker.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  it('fails with serverless-offline\'s reason and leaves nothing running', async () => {
    const directoryPort = await freePort();

    await expect(startLocalService({ port, directoryPort, lambdaPort: 0 })).rejects.toThrow(/serverless-offline[\s\S]*EADDRINUSE/);

    expect(await portIsFree(directoryPort)).toBe(true);
  }, START_TIMEOUT_MS);
});
