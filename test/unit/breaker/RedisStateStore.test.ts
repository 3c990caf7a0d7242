/**
 * RedisStateStore's requests and error handling with a scripted client (no server): the exact commands sent, the
 * NOSCRIPT reload, aborts, cluster redirects. What the scripts do on a real server is in the store contract
 * (test/contract/redis.redis.test.ts) and test/integration/breaker/redisStore.redis.test.ts.
 */
import { BreakerConfigError, CircuitBreaker, RedisStateStore, type RedisCommandClient } from '../../../src/breaker';
import { SCRIPTS } from '../../../src/breaker/store/redisScripts';

type Answer = (args: string[]) => Promise<unknown>;

function scriptedClient(...answers: Answer[]) {
  const sent: string[][] = [];
  const client: RedisCommandClient = {
    sendCommand: (args) => {
      sent.push(args);
      const answer = answers.shift();
      if (!answer) throw new Error(`unexpected command ${args[0]}`);
      return answer(args);
    },
  };
  return { client, sent };
}

const HASH = ['state', 'CLOSED', 'version', '0', 'f_1000', '2'];
const ok = (applied: 0 | 1, hash: string[] = HASH): Answer => async () => [applied, hash];
const fail = (message: string): Answer => async () => {
  throw Object.assign(new Error(message), { name: 'ErrorReply' });
};
const opts = () => ({ abortSignal: new AbortController().signal });

test('each operation is one EVALSHA of its script on the prefixed key, the request as JSON with numbers as strings', async () => {
  const { client, sent } = scriptedClient(ok(1));
  const store = new RedisStateStore({ client, keyPrefix: 'app:cb:' });
  const outcome = await store.recordCount('users', { increments: { f_1000: 1 }, staleCounters: ['f_0', 'f_1000'], now: 1_500, expiresAt: 9 }, opts());
  expect(sent).toEqual([
    ['EVALSHA', SCRIPTS.recordCount.sha1, '1', 'app:cb:users', JSON.stringify({ increments: [['f_1000', '1']], stale: ['f_0'], now: '1500', expiresAt: '9', expiresAtMs: '9000' })],
  ]);
  expect(outcome).toMatchObject({ applied: true, record: { state: 'CLOSED', version: 0, counters: { f_1000: 2 } } });
});

test('on NOSCRIPT the script is loaded (SCRIPT LOAD) and run again; later calls run it by hash only', async () => {
  const { client, sent } = scriptedClient(fail('NOSCRIPT No matching script.'), async () => SCRIPTS.read.sha1, ok(0), ok(0));
  const store = new RedisStateStore({ client });
  await store.read('c', opts());
  await store.read('c', opts());
  expect(sent.map((args) => args.slice(0, 2))).toEqual([
    ['EVALSHA', SCRIPTS.read.sha1],
    ['SCRIPT', 'LOAD'],
    ['EVALSHA', SCRIPTS.read.sha1],
    ['EVALSHA', SCRIPTS.read.sha1],
  ]);
  expect(sent[1][2]).toBe(SCRIPTS.read.source);
  expect(sent[0][3]).toBe('circuit-breaker:c');
});

test.each(['MOVED 3999 10.0.0.2:6379', 'ASK 3999 10.0.0.2:6379'])('a cluster redirect (%s) is a store error naming it, and the breaker applies onStoreError', async (reply) => {
  const { client } = scriptedClient(fail(reply));
  const store = new RedisStateStore({ client });
  await expect(store.read('c', opts())).rejects.toThrow(/cluster redirect/);

  const breaker = new CircuitBreaker({ name: 'c', store: new RedisStateStore({ client: scriptedClient(fail(reply)).client }), onStoreError: 'deny' });
  const events: string[] = [];
  breaker.onEvent((event) => events.push(event.type));
  await expect(breaker.execute(async () => 'never')).rejects.toMatchObject({ name: 'CircuitOpenError', state: 'STORE_UNAVAILABLE' });
  expect(events).toContain('storeError');
});

test('an abort stops the wait with the signal\'s reason; the command settling later leaves no unhandled rejection', async () => {
  let rejectLate: (error: Error) => void = () => undefined;
  const { client } = scriptedClient(() => new Promise((_, reject) => (rejectLate = reject)));
  const unhandled = jest.fn();
  process.on('unhandledRejection', unhandled);
  try {
    const controller = new AbortController();
    const pending = new RedisStateStore({ client }).read('c', { abortSignal: controller.signal });
    const reason = Object.assign(new Error('store timed out'), { name: 'StoreTimeoutError' });
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    rejectLate(new Error('connection reset'));
    await new Promise(setImmediate);
    await new Promise(setImmediate);
    expect(unhandled).not.toHaveBeenCalled();
  } finally {
    process.off('unhandledRejection', unhandled);
  }
});

test('an already aborted signal sends nothing', async () => {
  const { client, sent } = scriptedClient();
  await expect(new RedisStateStore({ client }).read('c', { abortSignal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow('gone');
  expect(sent).toEqual([]);
});

test('a reply that is not {applied, hash} is an error, not a closed circuit', async () => {
  const { client } = scriptedClient(async () => 'OK');
  await expect(new RedisStateStore({ client }).read('c', opts())).rejects.toThrow(/unexpected reply/);
});

test.each([
  [{ client: undefined }, 'client'],
  [{ client: {} }, 'client'],
  [{ client: scriptedClient().client, keyPrefix: '' }, 'keyPrefix'],
  [{ client: scriptedClient().client, keyPrefix: 'has space' }, 'keyPrefix'],
])('options are validated: %#', (options, option) => {
  expect(() => new RedisStateStore(options as never)).toThrow(BreakerConfigError);
  expect(() => new RedisStateStore(options as never)).toThrow(new RegExp(`'${option}'`));
});
