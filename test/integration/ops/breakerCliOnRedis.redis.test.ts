/**
 * `npm run breaker -- --store redis --endpoint redis://...` (the real entry point, as a child process) against a
 * real redis-server: what the operator sets is what a service instance on the same server obeys.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { readStageBreakerSettings } from '../../../ops/stageBreakerSettings';
import { CircuitBreaker, CircuitOpenError, RedisStateStore } from '../../../src/breaker';
import { startTestRedis, type TestRedis } from '../../support/redisServer';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..', '..');
const settings = readStageBreakerSettings('dev');
let redis: TestRedis;

beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const operator = async (...argv: string[]) => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'ops/breaker.ts', ...argv, '--store', 'redis', '--endpoint', redis.url, '--json'], {
    cwd: ROOT,
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  return JSON.parse(stdout) as { state: string };
};

test('force-open reaches a service instance on the same server; reset closes it again', async () => {
  const service = new CircuitBreaker({ name: settings.circuit, store: new RedisStateStore({ client: await redis.newClient() }), stateCacheMs: 0 });
  expect(await operator('status')).toMatchObject({ state: 'CLOSED' });
  expect(await operator('force-open', '--create')).toMatchObject({ state: 'FORCED_OPEN' });
  await expect(service.execute(async () => 'ok')).rejects.toBeInstanceOf(CircuitOpenError);
  expect(await operator('reset')).toMatchObject({ state: 'CLOSED' });
  await expect(service.execute(async () => 'ok')).resolves.toBe('ok');
});

test('an unreachable server: exit code 1 and a one-line reason naming it', async () => {
  const gone = await startTestRedis();
  const url = gone.url;
  await gone.stop();
  const failure = await run(process.execPath, ['--import', 'tsx', 'ops/breaker.ts', 'status', '--store', 'redis', '--endpoint', url], {
    cwd: ROOT,
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  }).catch((error: { code: number; stderr: string }) => error);
  expect(failure).toMatchObject({ code: 1, stderr: expect.stringContaining(`breaker: cannot connect to Redis ${url}`) });
});
