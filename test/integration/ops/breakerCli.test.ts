/**
 * `npm run breaker` against the integration DynamoDB backend (test/support/dynamoBackend.ts) with the tables of
 * serverless.yml: what the operator sets is what a service instance (a separate breaker on the same table) obeys.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynalite } from '../../../local/dynalite';
import { createTables, readTablesFromServerlessYml } from '../../../tools/serverless-config/tablesFromServerlessYml';
import { clientConfigFor, parseBreakerCommand, runBreakerCommand } from '../../../ops/breakerCommand';
import { readStageBreakerSettings } from '../../../ops/stageBreakerSettings';
import { CircuitBreaker, CircuitOpenError, DynamoDBStateStore } from '../../../src/breaker';
import { startDynamoBackend, type RunningDynamoBackend } from '../../support/dynamoBackend';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..', '..');
const settings = readStageBreakerSettings('dev');

describe('the breaker operator command', () => {
  let dynamo: RunningDynamoBackend;
  let client: DynamoDBClient;

  beforeAll(async () => {
    dynamo = await startDynamoBackend();
    client = new DynamoDBClient(clientConfigFor(parseBreakerCommand(['status', '--endpoint', dynamo.endpoint])));
    await createTables(client, readTablesFromServerlessYml({ stage: 'dev' }));
  });

  afterAll(async () => {
    client.destroy();
    await dynamo.stop();
  });

  const operator = (...argv: string[]) => runBreakerCommand(parseBreakerCommand([...argv, '--endpoint', dynamo.endpoint]), settings, client);
  /** A service instance: caches nothing, so it sees each override at once. */
  const service = () =>
    new CircuitBreaker({ name: settings.circuit, store: new DynamoDBStateStore({ tableName: settings.tableName, client }), stateCacheMs: 0 });

  it('reads, forces open, disables and resets the state every service instance obeys', async () => {
    expect(await operator('status')).toMatchObject({ state: 'CLOSED', failures: 0, version: null });

    const failing = service();
    for (let i = 0; i < 3; i += 1) await expect(failing.execute(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await operator('status')).toMatchObject({ state: 'CLOSED', failures: 3 });

    expect(await operator('force-open')).toMatchObject({ state: 'FORCED_OPEN' });
    const downstream = jest.fn(() => Promise.resolve('ok'));
    await expect(service().execute(downstream)).rejects.toBeInstanceOf(CircuitOpenError);
    expect(downstream).not.toHaveBeenCalled();

    expect(await operator('disable')).toMatchObject({ state: 'DISABLED' });
    await expect(service().execute(downstream)).resolves.toBe('ok');

    expect(await operator('reset')).toMatchObject({ state: 'CLOSED', failures: 0 });
    expect((await service().getState()).state).toBe('CLOSED');
  });

  it('runs as `npm run breaker`: prints the state, and exits 2 naming a bad argument', async () => {
    const cli = (...argv: string[]) =>
      run(process.execPath, ['--no-warnings', '--import', 'tsx', 'ops/breaker.ts', ...argv], { cwd: ROOT, encoding: 'utf8' });

    await operator('force-open');
    const { stdout } = await cli('status', '--endpoint', dynamo.endpoint);
    expect(stdout).toContain('circuit user-directory (stage dev, table simple-web-service-dev-circuit-breakers): FORCED_OPEN');
    const json = await cli('reset', '--json', '--endpoint', dynamo.endpoint);
    expect(JSON.parse(json.stdout)).toMatchObject({ circuit: 'user-directory', state: 'CLOSED' });

    await expect(cli('open')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('unknown action "open"') });
  });

  it('shows why and when an open circuit opened, and --json promises no end for a forced-open one', async () => {
    const cli = (...argv: string[]) =>
      run(process.execPath, ['--no-warnings', '--import', 'tsx', 'ops/breaker.ts', ...argv, '--endpoint', dynamo.endpoint], { cwd: ROOT, encoding: 'utf8' });
    await operator('reset');
    const failing = service();
    for (let i = 0; i < settings.failureThreshold; i += 1) await failing.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
    expect((await failing.getState()).state).toBe('OPEN');

    const { stdout } = await cli('status');
    expect(stdout).toContain(': OPEN');
    expect(stdout).toMatch(/ {2}opened at /);
    expect(stdout).toMatch(/ {2}next probe at \d{4}-\d\d-\d\dT/);
    expect(stdout).toContain('  backoff step 0');
    // The count was cleared when it opened; "0 of 5" right after five failures is what misled the on-call engineer.
    expect(stdout).not.toMatch(/failures in the last \d+ s: 0 of/);

    await operator('force-open');
    expect(JSON.parse((await cli('status', '--json')).stdout)).toMatchObject({ state: 'FORCED_OPEN', retryAfterMs: null });
    await operator('reset');
  });

  it('refuses force-open and disable on a circuit with no stored state (exit 2, naming both circuits) unless --create', async () => {
    const cli = (...argv: string[]) =>
      run(process.execPath, ['--no-warnings', '--import', 'tsx', 'ops/breaker.ts', ...argv, '--endpoint', dynamo.endpoint], { cwd: ROOT, encoding: 'utf8' });
    for (const action of ['force-open', 'disable']) {
      await expect(cli(action, '--circuit', 'user-directoy')).rejects.toMatchObject({
        code: 2,
        stderr: expect.stringMatching(/circuit "user-directoy" has no stored state in table simple-web-service-dev-circuit-breakers; the stage dev circuit is "user-directory"/),
      });
      expect(await operator('status', '--circuit', 'user-directoy')).toMatchObject({ version: null });
    }
    const { stdout } = await cli('force-open', '--circuit', 'brand-new', '--create');
    expect(stdout).toContain('circuit brand-new (stage dev, table simple-web-service-dev-circuit-breakers): FORCED_OPEN');
    expect(stdout).toMatch(/forced open by an operator since \d{4}-\d\d-\d\dT[^ ]+ \(\d+ s ago\)/);
    await operator('reset', '--circuit', 'brand-new');
  });

  it('after resetting an OPEN circuit, says when containers that cached OPEN obey; --json has the stage, table and thresholds', async () => {
    const cli = (...argv: string[]) =>
      run(process.execPath, ['--no-warnings', '--import', 'tsx', 'ops/breaker.ts', ...argv, '--endpoint', dynamo.endpoint], { cwd: ROOT, encoding: 'utf8' });
    await operator('reset');
    const failing = service();
    for (let i = 0; i < settings.failureThreshold; i += 1) await failing.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
    const { openUntil } = await failing.getState();
    const { stdout } = await cli('reset');
    expect(stdout).toContain(': CLOSED');
    expect(stdout).toContain(`  containers that cached OPEN obey this when their open period ends, at the latest ${new Date(openUntil as number).toISOString()} (in `);

    const json = JSON.parse((await cli('status', '--json')).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({
      stage: 'dev',
      table: 'simple-web-service-dev-circuit-breakers',
      failureThreshold: settings.failureThreshold,
      windowMs: settings.windowMs,
      state: 'CLOSED',
    });
  });

  it("uses the stage's region from serverless.yml unless --region or the AWS environment says otherwise", async () => {
    // No credentials anywhere (and no instance metadata to ask): the command fails after choosing its region, and says which.
    const home = mkdtempSync(path.join(tmpdir(), 'breaker-home-'));
    const bare = { PATH: process.env.PATH ?? '', HOME: home, AWS_EC2_METADATA_DISABLED: 'true' };
    const status = (env: Record<string, string>, ...argv: string[]) =>
      run(process.execPath, ['--no-warnings', '--import', 'tsx', 'ops/breaker.ts', 'status', '--stage', 'dev', ...argv], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...bare, ...env },
      }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
      );

    const fromStage = await status({});
    expect(fromStage.code).toBe(1);
    expect(fromStage.stderr).toContain('status failed on table simple-web-service-dev-circuit-breakers (region us-east-1)');
    expect(fromStage.stderr).not.toMatch(/region is missing/i);
    expect((await status({ AWS_DEFAULT_REGION: 'eu-central-1' })).stderr).toContain('(region eu-central-1)');
    expect((await status({ AWS_REGION: 'eu-west-2', AWS_DEFAULT_REGION: 'eu-central-1' })).stderr).toContain('(region eu-west-2)');
    expect((await status({ AWS_REGION: 'eu-west-2' }, '--region', 'ap-south-1')).stderr).toContain('(region ap-south-1)');
  });

  it('exits 1 naming the table when the store cannot be reached', async () => {
    // Any server will do: a port that was just listening and is now closed.
    const closedPort = await startDynalite().then(async (other) => {
      await other.stop();
      return other.port;
    });
    await expect(
      run(process.execPath, ['--no-warnings', '--import', 'tsx', 'ops/breaker.ts', 'status', '--endpoint', `http://127.0.0.1:${closedPort}`], {
        cwd: ROOT,
        encoding: 'utf8',
      }),
    ).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('status failed on table simple-web-service-dev-circuit-breakers') });
  });
});
