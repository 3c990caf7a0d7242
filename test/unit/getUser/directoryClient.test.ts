import type { ServerResponse } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import {
  countsAsDirectoryFailure,
  createDirectoryClient,
  DirectoryRejectedError,
  DirectoryUnavailableError,
  InvalidDirectoryRecordError,
} from '../../../src/users/directoryClient';
import { startScriptedServer, type ScriptedServer } from '../../support/getUser/httpServer';

const ada = { id: 'demo-1', name: 'Ada Lovelace', email: 'ada@example.com' };

function send(res: ServerResponse, status: number, body: string, contentType = 'application/json'): void {
  res.writeHead(status, { 'content-type': contentType });
  res.end(body);
}

describe('directory client against a real HTTP server', () => {
  let reply: (res: ServerResponse) => void;
  let server: ScriptedServer;

  beforeAll(async () => {
    server = await startScriptedServer((_req, res) => reply(res));
  });
  afterAll(() => server.stop());
  beforeEach(() => server.paths.splice(0));

  const getUser = (id = 'demo-1', signal = new AbortController().signal) =>
    createDirectoryClient({ baseUrl: server.url, maxBodyBytes: 1024 }).getUser(id, signal);

  it('returns the validated user from a 200, dropping unknown fields', async () => {
    reply = (res) => send(res, 200, JSON.stringify({ ...ada, secret: 'x' }), 'application/json; charset=utf-8');
    await expect(getUser()).resolves.toEqual({ kind: 'found', user: ada });
    expect(server.paths).toEqual(['/users/demo-1']);
  });

  it('percent-encodes the id into one path segment', async () => {
    reply = (res) => send(res, 404, '{"error":"not found"}');
    await getUser('a@b.c');
    expect(server.paths).toEqual(['/users/a%40b.c']);
  });

  it('maps 404 to notFound, which is not an error', async () => {
    reply = (res) => send(res, 404, '{"error":"not found"}');
    await expect(getUser()).resolves.toEqual({ kind: 'notFound' });
  });

  it.each([500, 502, 503, 504, 408, 429])('turns status %i into a DirectoryUnavailableError that counts', async (status) => {
    reply = (res) => send(res, status, '{"error":"x"}');
    const error = await getUser().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DirectoryUnavailableError);
    expect(error).toMatchObject({ reason: 'status', status });
    expect(countsAsDirectoryFailure(error)).toBe(true);
  });

  it.each([400, 401, 403, 422])('turns status %i into a DirectoryRejectedError that the breaker ignores', async (status) => {
    reply = (res) => send(res, status, '{"error":"x"}');
    const error = await getUser().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DirectoryRejectedError);
    expect(countsAsDirectoryFailure(error)).toBe(false);
  });

  it.each([
    ['not JSON', 'hello', 'application/json', /not valid JSON/],
    ['the wrong content-type', JSON.stringify(ada), 'text/html', /content-type is "text\/html"/],
    ['a body over the cap that is not a JSON object or array', 'x'.repeat(2000), 'application/json', /exceeds 1024 bytes and is not a JSON object or array/],
  ])('treats a 200 with %s as a malformed answer that counts', async (_label, body, contentType, message) => {
    reply = (res) => send(res, 200, body, contentType);
    const error = await getUser().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DirectoryUnavailableError);
    expect(error).toMatchObject({ reason: 'malformedBody', message: expect.stringMatching(message) });
    expect(countsAsDirectoryFailure(error)).toBe(true);
  });

  it.each([
    ['a user without email', JSON.stringify({ id: 'demo-1', name: 'Ada' }), /"email"/],
    ['a name over 256 characters', JSON.stringify({ ...ada, name: 'n'.repeat(257) }), /"name" must be a non-empty string of at most 256/],
    ['a JSON array', '[]', /JSON object/],
    ['another user', JSON.stringify({ ...ada, id: 'demo-2' }), /asked for id "demo-1", got a user with id "demo-2"/],
  ])("treats well-formed JSON with %s as that record's fault, which the breaker does not count", async (_label, text, problem) => {
    reply = (res) => send(res, 200, text, 'application/json; charset=utf-8');
    const error = await getUser().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidDirectoryRecordError);
    expect(error).toMatchObject({ userId: 'demo-1', problem: expect.stringMatching(problem) });
    expect(countsAsDirectoryFailure(error)).toBe(false);
  });

  it.each([
    ['an object, chunked', false, `  ${JSON.stringify({ ...ada, padding: 'x'.repeat(2000) })}`],
    ['an object with a declared content-length', true, `  ${JSON.stringify({ ...ada, padding: 'x'.repeat(2000) })}`],
    ['an array', false, `\n[${JSON.stringify({ ...ada, padding: 'x'.repeat(2000) })}]`],
  ])("treats JSON over the cap (%s) as that one record's fault, which the breaker does not count", async (_label, declared, text) => {
    reply = (res) => {
      res.writeHead(200, { 'content-type': 'application/json', ...(declared ? { 'content-length': String(Buffer.byteLength(text)) } : {}) });
      res.end(text);
    };
    const error = await getUser().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidDirectoryRecordError);
    expect(error).toMatchObject({ userId: 'demo-1', problem: 'the record is over 1024 bytes' });
    expect(countsAsDirectoryFailure(error)).toBe(false);
  });

  it('refuses a body that is not UTF-8 as an invalid record, never storing U+FFFD', async () => {
    reply = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      // {"id":"demo-1","name":"\xff","email":"ada@example.com"}: 0xFF never occurs in UTF-8.
      res.end(Buffer.concat([Buffer.from('{"id":"demo-1","name":"'), Buffer.from([0xff]), Buffer.from('","email":"ada@example.com"}')]));
    };
    const error = await getUser().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidDirectoryRecordError);
    expect(error).toMatchObject({ problem: 'the body is not valid UTF-8' });
    expect(countsAsDirectoryFailure(error)).toBe(false);
  });

  it('reports a connection reset in the middle of the body as an unreachable directory that counts', async () => {
    reply = (res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
      res.write('{"id":"demo-1","name":"Ada');
      // Headers and part of the body are out; then the connection dies.
      setImmediate(() => res.socket?.destroy());
    };
    const error = await getUser().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DirectoryUnavailableError);
    expect(error).toMatchObject({ reason: 'unreachable', message: expect.stringMatching(/^user directory connection broke while sending the body/) });
    expect(countsAsDirectoryFailure(error)).toBe(true);
  });

  it('stops reading a chunked body past the cap', async () => {
    reply = (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('<html>');
      res.write('x'.repeat(4096));
      // Never ends: the client must give up on size alone.
    };
    await expect(getUser()).rejects.toMatchObject({ reason: 'malformedBody', message: expect.stringMatching(/exceeds 1024/) });
  });

  it('passes the abort signal to the request and rethrows the abort untouched', async () => {
    let requested!: () => void;
    const arrived = new Promise<void>((resolve) => (requested = resolve));
    reply = () => requested(); // never answers
    const controller = new AbortController();
    const pending = getUser('demo-1', controller.signal);
    await arrived;
    controller.abort(new Error('breaker timeout'));
    await expect(pending).rejects.toThrow('breaker timeout');
  });
});

describe('directory client with nothing listening', () => {
  it('reports a connection error as an unreachable directory that counts', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const client = createDirectoryClient({ baseUrl: `http://127.0.0.1:${port}` });
    const error = await client.getUser('demo-1', new AbortController().signal).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DirectoryUnavailableError);
    expect(error).toMatchObject({ reason: 'unreachable', message: expect.stringMatching(/ECONNREFUSED/) });
    expect(countsAsDirectoryFailure(error)).toBe(true);
  });
});
