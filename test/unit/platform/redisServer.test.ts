/** Finding the server binary for the local run and test:redis, without running one (that is in the *.redis.test.ts suites). */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findRedisServerBinary, RedisServerMissingError, startRedisServer } from '../../../local/redisServer';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'redis-bin-'));
  for (const name of ['redis-server', 'valkey-server']) {
    writeFileSync(path.join(dir, name), '#!/bin/sh\n');
    chmodSync(path.join(dir, name), 0o755);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('valkey-server is preferred where installed, then redis-server; REDIS_SERVER_BIN overrides both', () => {
  expect(findRedisServerBinary({ PATH: dir })).toBe(path.join(dir, 'valkey-server'));
  rmSync(path.join(dir, 'valkey-server'));
  expect(findRedisServerBinary({ PATH: `/nonexistent${path.delimiter}${dir}` })).toBe(path.join(dir, 'redis-server'));
  expect(findRedisServerBinary({ PATH: dir, REDIS_SERVER_BIN: '/nonexistent/redis-server' })).toBeUndefined();
  expect(findRedisServerBinary({ PATH: '/nonexistent' })).toBeUndefined();
});

test('no binary: a one-line error that says what to install', async () => {
  const saved = process.env.REDIS_SERVER_BIN;
  process.env.REDIS_SERVER_BIN = '/nonexistent/redis-server';
  try {
    const error = await startRedisServer().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisServerMissingError);
    expect((error as Error).message).toMatch(/^redis-server \(or valkey-server\) is not installed: run `apt-get install -y redis-server`[^\n]*$/);
  } finally {
    if (saved === undefined) delete process.env.REDIS_SERVER_BIN;
    else process.env.REDIS_SERVER_BIN = saved;
  }
});
