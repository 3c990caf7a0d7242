import { parseDirectoryMode, startUserDirectoryStub, type RunningUserDirectoryStub } from '../../../local/userDirectoryStub';

describe('user directory stub', () => {
  let stub: RunningUserDirectoryStub;
  beforeEach(async () => {
    stub = await startUserDirectoryStub();
  });
  afterEach(() => stub.stop());

  const getUser = (id: string, init?: RequestInit) => fetch(`${stub.url}/users/${encodeURIComponent(id)}`, init);
  const control = (body: string) => fetch(`${stub.url}/_control`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

  it('serves seeded users as JSON and 404 for unknown ids', async () => {
    const found = await getUser('demo-1');
    expect(found.status).toBe(200);
    expect(found.headers.get('content-type')).toBe('application/json');
    expect(await found.json()).toEqual({ id: 'demo-1', name: 'Ada Lovelace', email: 'ada@example.com' });
    const missing = await getUser('nobody');
    expect(missing.status).toBe(404);
    expect(stub.stats().requests).toBe(2);
  });

  it('fails, answers garbage and recovers when told over HTTP', async () => {
    expect((await control('{"kind":"down"}')).status).toBe(200);
    expect((await getUser('demo-1')).status).toBe(503);
    await control('{"kind":"down","status":500}');
    expect((await getUser('demo-1')).status).toBe(500);
    await control('{"kind":"garbage"}');
    const garbage = await getUser('demo-1');
    expect(garbage.status).toBe(200);
    expect(garbage.headers.get('content-type')).toBe('text/html');
    await control('{"kind":"invalidRecord"}');
    const invalid = await getUser('demo-1');
    expect(invalid.headers.get('content-type')).toBe('application/json');
    expect(await invalid.json()).toMatchObject({ id: 'demo-1', name: 'x'.repeat(300) });
    await control('{"kind":"up"}');
    expect((await getUser('demo-1')).status).toBe(200);
    const state = await (await fetch(`${stub.url}/_control`)).json();
    expect(state).toMatchObject({ mode: { kind: 'up' }, requests: 5, inFlight: 0 });
  });

  it('holds slow answers until the delay passes or the caller gives up', async () => {
    stub.setMode({ kind: 'slow', delayMs: 60_000 });
    const controller = new AbortController();
    const pending = getUser('demo-1', { signal: controller.signal });
    // The request is in flight once the stub counts it; poll the counter, not the clock.
    while (stub.stats().inFlight === 0) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    await expect(pending).rejects.toThrow();
    while (stub.stats().inFlight !== 0) await new Promise((resolve) => setImmediate(resolve));
    expect(stub.stats().maxInFlight).toBe(1);
    stub.setMode({ kind: 'slow', delayMs: 1 });
    expect((await getUser('demo-2')).status).toBe(200);
  });

  it('rejects invalid control bodies with a message naming the problem', async () => {
    const notJson = await control('down');
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: string }).error).toMatch(/not valid JSON/);
    const badKind = await control('{"kind":"sideways"}');
    expect(((await badKind.json()) as { error: string }).error).toMatch(/"kind" must be one of/);
    expect(stub.mode()).toEqual({ kind: 'up' });
  });
});

describe('parseDirectoryMode', () => {
  it.each([
    [[], /JSON object/],
    [{ kind: 'slow' }, /"delayMs" must be an integer/],
    [{ kind: 'slow', delayMs: -1 }, /"delayMs"/],
    [{ kind: 'down', status: 404 }, /"status" must be an integer from 500 to 599/],
  ])('rejects %j', (input, message) => {
    expect(() => parseDirectoryMode(input)).toThrow(message);
  });

  it('accepts every documented mode', () => {
    expect(parseDirectoryMode({ kind: 'slow', delayMs: 250 })).toEqual({ kind: 'slow', delayMs: 250 });
    expect(parseDirectoryMode({ kind: 'down', status: 502 })).toEqual({ kind: 'down', status: 502 });
    expect(parseDirectoryMode({ kind: 'garbage', extra: 1 })).toEqual({ kind: 'garbage' });
    expect(parseDirectoryMode({ kind: 'invalidRecord' })).toEqual({ kind: 'invalidRecord' });
  });
});
