/**
 * `npm start` itself (local/start.ts as a child process, on free ports): every URL its output prints answers, it
 * prints no AWS SDK Node-version notice, and USER_DIRECTORY_URL runs it against another directory without the stub.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { freePort } from '../../../local/freePort';
import { startScriptedServer, type ScriptedServer } from '../../support/getUser/httpServer';

const ROOT = path.join(__dirname, '..', '..', '..');
const START_TIMEOUT_MS = 90_000;
const READY = 'Ctrl-C stops everything.';

interface NpmStart {
  child: ChildProcess;
  output(): string;
  /** Resolves when the output contains `text` (now or later). */
  waitFor(text: string): Promise<void>;
  exited: Promise<number | null>;
}

/** Starts `npm start` (what the script runs) and resolves once its banner is out. */
async function npmStart(env: Record<string, string>): Promise<NpmStart> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    cwd: ROOT,
    // Only what a fresh shell has: the SDK notice switch that Jest's setup set must not leak into this check.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', USER_DIRECTORY_PORT: '0', LAMBDA_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const waiting: Array<{ text: string; resolve: () => void }> = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const onData = (chunk: Buffer): void => {
    text += chunk.toString();
    for (const waiter of waiting.filter((candidate) => text.includes(candidate.text))) {
      waiting.splice(waiting.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const waitFor = (wanted: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (text.includes(wanted)) return resolve();
      waiting.push({ text: wanted, resolve });
      void exited.then((code) => reject(new Error(`npm start exited (code ${code}) before printing ${wanted}:\n${text}`)));
    });
  await waitFor(READY);
  return { child, output: () => text, waitFor, exited };
}

async function stop(run: NpmStart | undefined): Promise<void> {
  if (!run || run.child.exitCode !== null) return;
  run.child.kill('SIGINT'); // start.ts stops serverless-offline's process group, the stub and dynalite, then exits
  await run.exited;
}

/** The URLs in a text, without the punctuation around them. */
function urlsIn(text: string): string[] {
  return [...new Set([...text.matchAll(/https?:\/\/[^\s'"`)]+/g)].map((match) => match[0]))];
}

/** Sends the request its URL calls for and returns the status (and, for the Lambda endpoint, the function's status). */
async function answer(url: string): Promise<{ url: string; status: number; functionStatus?: number }> {
  if (url.endsWith('/invocations')) {
    const response = await fetch(url, { method: 'POST', body: JSON.stringify({ rawPath: '/user/demo-1', pathParameters: { id: 'demo-1' } }) });
    const status = response.status;
    const payload = (await response.json().catch(() => ({}))) as { statusCode?: number };
    return { url, status, ...(payload.statusCode === undefined ? {} : { functionStatus: payload.statusCode }) };
  }
  const response = await fetch(url.replace('{id}', 'demo-1'));
  await response.arrayBuffer();
  return { url, status: response.status };
}

describe('npm start', () => {
  let run: NpmStart | undefined;

  beforeAll(async () => {
    run = await npmStart({});
  }, START_TIMEOUT_MS);
  afterAll(() => stop(run), START_TIMEOUT_MS);

  it('prints only URLs that work, the Lambda invoke endpoint among them', async () => {
    const output = (run as NpmStart).output();
    const urls = urlsIn(output);
    const invoke = urls.filter((url) => url.endsWith('/invocations'));
    expect(invoke).toEqual([expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/2015-03-31\/functions\/simple-web-service-dev-GetUser\/invocations$/)]);

    const answers = [];
    for (const url of urls) answers.push(await answer(url));
    for (const result of answers) {
      if (result.url.endsWith('/invocations')) expect(result).toEqual({ url: result.url, status: 200, functionStatus: 200 });
      else if (result.url.endsWith('/user/nobody')) expect(result).toEqual({ url: result.url, status: 404 });
      else if (/\/(user|users)\/|\/_control$/.test(result.url)) expect(result).toEqual({ url: result.url, status: 200 });
      // Base URLs (DynamoDB, the API's root, the Lambda port) only have to be answered by a server.
      else expect([result.url, result.status]).toEqual([result.url, expect.any(Number)]);
    }
  });

  it("prints no AWS SDK Node-version notice, even after the function's SDK clients are made", async () => {
    const response = await fetch(urlsIn((run as NpmStart).output()).find((url) => url.endsWith('/user/{id}'))!.replace('{id}', 'demo-2'));
    await response.arrayBuffer();
    // The SDK's notice would come when the function makes its clients, before this request's log line.
    await (run as NpmStart).waitFor('"userId":"demo-2"');
    expect((run as NpmStart).output()).not.toMatch(/NodeVersion|AWS SDK for JavaScript/);
  });
});

describe('npm start with USER_DIRECTORY_URL', () => {
  let run: NpmStart | undefined;
  let directory: ScriptedServer;
  let stubPort: number;

  beforeAll(async () => {
    directory = await startScriptedServer((req, res: ServerResponse) => {
      const id = decodeURIComponent((req.url ?? '').replace(/^\/users\//, ''));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id, name: 'From My Directory', email: 'mine@example.com' }));
    });
    stubPort = await freePort();
    run = await npmStart({ USER_DIRECTORY_URL: directory.url, USER_DIRECTORY_PORT: String(stubPort) });
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await stop(run);
    await directory?.stop();
  }, START_TIMEOUT_MS);

  it('calls that directory and starts no stub', async () => {
    const output = (run as NpmStart).output();
    expect(output).toContain(`user directory  ${directory.url}/users/{id}   (yours, from USER_DIRECTORY_URL; no stub started)`);
    expect(output).not.toContain('/_control');

    const api = urlsIn(output).find((url) => url.endsWith('/user/{id}'))!;
    const response = await fetch(api.replace('{id}', 'mine-1'));
    expect(await response.json()).toEqual({ id: 'mine-1', name: 'From My Directory', email: 'mine@example.com' });
    expect(directory.paths).toEqual(['/users/mine-1']);
    await expect(fetch(`http://127.0.0.1:${stubPort}/_control`)).rejects.toThrow();
  });
});

describe('npm start with a port already in use', () => {
  it.each(['PORT', 'USER_DIRECTORY_PORT', 'LAMBDA_PORT'])('prints one line naming %s and exits 1, starting nothing', async (variable) => {
    const holder = await startScriptedServer((_req, res: ServerResponse) => res.end());
    const busy = new URL(holder.url).port;
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', USER_DIRECTORY_PORT: '0', LAMBDA_PORT: '0', [variable]: busy },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect({ code, stderr }).toEqual({
        code: 1,
        stderr: `npm start: port ${busy} (${variable}) is already in use, perhaps by another npm start: stop that, or set ${variable} to a free port (0 picks one)\n`,
      });
      expect(stdout).not.toMatch(/EADDRINUSE|dynalite|running locally/);
    } finally {
      await holder.stop();
    }
  }, START_TIMEOUT_MS);
});
