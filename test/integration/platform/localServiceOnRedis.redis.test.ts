/**
 * `npm start -- --store redis` (startLocalService with store: 'redis'): the local run with the breaker's state in a
 * redis-server it starts, serving the README's curl story; stop() stops the server too.
 */
import { createClient } from '@redis/client';
import { startLocalService, type RunningLocalServiceWithStub } from '../../../local/localService';

const START_TIMEOUT_MS = 90_000;
let service: RunningLocalServiceWithStub;

beforeAll(async () => {
  service = await startLocalService({ port: 0, directoryPort: 0, lambdaPort: 0, store: 'redis' });
}, START_TIMEOUT_MS);
afterAll(async () => {
  await service?.stop();
});

test('the directory failing opens the circuit, whose state is in the local redis-server; stop() stops it', async () => {
  expect(service).toMatchObject({ store: 'redis', redisUrl: expect.stringMatching(/^redis:\/\/127\.0\.0\.1:\d+$/) });
  const get = async (id: string) => {
    const response = await fetch(`${service.apiUrl}/user/${id}`);
    await response.arrayBuffer();
    return { status: response.status, source: response.headers.get('x-user-source'), retryAfter: response.headers.get('retry-after') };
  };
  expect(await get('demo-1')).toMatchObject({ status: 200, source: 'directory' });
  service.directory.setMode({ kind: 'down' });
  for (let i = 0; i < 5; i += 1) expect(await get('demo-1')).toMatchObject({ status: 200, source: 'cache' });
  expect(await get('demo-3')).toMatchObject({ status: 503, retryAfter: expect.any(String) });

  const redis = createClient({ url: service.redisUrl, socket: { reconnectStrategy: false } });
  redis.on('error', () => undefined);
  await redis.connect();
  try {
    expect(await redis.sendCommand(['HGET', 'circuit-breaker:user-directory', 'state'])).toBe('OPEN');
  } finally {
    redis.destroy();
  }

  await service.stop();
  const after = createClient({ url: service.redisUrl, socket: { reconnectStrategy: false, connectTimeout: 2_000 } });
  after.on('error', () => undefined);
  await expect(after.connect()).rejects.toThrow();
}, 60_000);
