/**
 * serverless-offline as a child process: API Gateway HTTP API (payload 2.0) in front of the real GetUser handler,
 * bundled by serverless-esbuild exactly as for deployment, with serverless.yml's environment.
 *
 * The child leads its own process group, so stop() also ends what it started (esbuild's service process).
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { stopProcessGroup } from './processGroup';

const PROJECT_ROOT = path.join(__dirname, '..');
/** Bundling plus startup takes 3 to 5 s on 2 cores; a bound well above that turns a hang into an error. */
const READY_TIMEOUT_MS = 60_000;
const SERVER_READY = /Server ready: (http:\/\/\S+)/;
/** How osls reports a failure (a bundle that does not build, a port in use); it then hangs instead of exiting. */
const FRAMEWORK_ERROR = /^Error:\s*$/m;

export interface ServerlessOfflineOptions {
  stage: string;
  httpPort: number;
  lambdaPort: number;
  /** Overrides of serverless.yml `params`, passed as --param="name=value". */
  params?: Record<string, string>;
  /**
   * The handler's environment beyond serverless.yml's (the child runs with --localEnvironment, so these reach the
   * handler; serverless.yml's values win where both are set). PATH and HOME are added.
   */
  env?: Record<string, string>;
  /** serverless-offline's output (request log, handler logs). Collected for error messages either way. */
  onOutput?: (text: string) => void;
  /** Aborting while starting stops the child and rejects. */
  signal?: AbortSignal;
}

export interface RunningServerlessOffline {
  url: string;
  /** The child's process id, which is also its process group id. */
  pid: number;
  /** Resolves when the child has exited, for whatever reason. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

/**
 * The folder (relative to the project root, as serverless-esbuild's outputWorkFolder must be) this run bundles into.
 * One per run, so a second run cannot delete this one's bundle; and outside `.esbuild`, because a concurrent
 * `sls package` (default work folder `.esbuild`) removes that whole folder when it finishes. Removed on stop().
 */
export function offlineWorkFolder(pid: number, httpPort: number): string {
  return path.join('.local-data', `offline-${pid}-${httpPort}`);
}

export async function startServerlessOffline(options: ServerlessOfflineOptions): Promise<RunningServerlessOffline> {
  options.signal?.throwIfAborted();
  const workFolder = offlineWorkFolder(process.pid, options.httpPort);
  const args = [
    require.resolve('serverless/bin/serverless.js'),
    'offline',
    'start',
    '--stage', options.stage,
    '--host', '127.0.0.1',
    '--httpPort', String(options.httpPort),
    '--lambdaPort', String(options.lambdaPort),
    '--localEnvironment',
    ...Object.entries(options.params ?? {}).flatMap(([name, value]) => ['--param', `${name}=${value}`]),
  ];
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ESBUILD_WORK_FOLDER: workFolder,
      ...options.env,
    },
  });

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let output = '';
  const onData = (chunk: Buffer): void => {
    const text = chunk.toString();
    output = (output + text).slice(-20_000);
    options.onOutput?.(text);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await stopProcessGroup(child, exited);
      await rm(path.join(PROJECT_ROOT, workFolder), { recursive: true, force: true });
    })();
    return stopping;
  };

  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`serverless-offline was not ready within ${READY_TIMEOUT_MS} ms. Its output:\n${output}`)),
        READY_TIMEOUT_MS,
      );
      const watchForReady = (): void => {
        const ready = SERVER_READY.exec(output);
        if (ready) {
          clearTimeout(timer);
          resolve(ready[1]);
        } else if (FRAMEWORK_ERROR.test(output)) {
          clearTimeout(timer);
          reject(new Error(`serverless-offline failed to start. Its output:\n${output}`));
        }
      };
      child.stdout?.on('data', watchForReady);
      child.stderr?.on('data', watchForReady);
      options.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(options.signal?.reason);
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`serverless-offline exited (code ${code}, signal ${signal}) before it was ready. Its output:\n${output}`));
      });
    });
    return { url, pid: child.pid as number, exited, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
