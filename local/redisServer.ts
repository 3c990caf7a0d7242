/**
 * A throwaway Redis-compatible server on 127.0.0.1 for the local run and the Redis test suites: `valkey-server` where
 * installed, else `redis-server` (Debian: `apt-get install redis-server`), or the binary REDIS_SERVER_BIN names.
 * In memory only (`--save '' --appendonly no`); ready when it prints "Ready to accept connections"; stopped by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { freePort } from './freePort';

export interface RunningRedisServer {
  /** e.g. redis://127.0.0.1:41234 */
  url: string;
  port: number;
  pid: number;
  /** The binary that runs (its path). */
  binary: string;
  stop(): Promise<void>;
}

/** Raised when no server binary is installed; its message is one line saying what to install. */
export class RedisServerMissingError extends Error {
  override readonly name = 'RedisServerMissingError';
  constructor() {
    super('redis-server (or valkey-server) is not installed: run `apt-get install -y redis-server`, or set REDIS_SERVER_BIN to a server binary');
  }
}

const BINARIES = ['valkey-server', 'redis-server'];
const READY = /Ready to accept connections/;
const PORT_TAKEN = /Address already in use/;

/** The server binary to run, or undefined when none is installed. */
export function findRedisServerBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.REDIS_SERVER_BIN) return isExecutable(env.REDIS_SERVER_BIN) ? env.REDIS_SERVER_BIN : undefined;
  const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const name of BINARIES) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Start a server on `port` (default: a free one). Throws RedisServerMissingError when no binary is installed. */
export async function startRedisServer(options: { port?: number } = {}): Promise<RunningRedisServer> {
  const binary = findRedisServerBinary();
  if (binary === undefined) throw new RedisServerMissingError();
  // A free port can be taken between the check and the bind: try another (only when we chose it).
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch(binary, port);
    } catch (error) {
      if (options.port !== undefined || attempt >= 5 || !(error instanceof PortTaken)) throw error;
    }
  }
}

class PortTaken extends Error {}

async function launch(binary: string, port: number): Promise<RunningRedisServer> {
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'notice'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output.push(text);
      if (READY.test(output.join(''))) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const log = output.join('');
      reject(PORT_TAKEN.test(log) ? new PortTaken(log) : new Error(`${binary} exited (${code ?? signal}) before it was ready:\n${log.slice(-2000)}`));
    });
  });
  child.stdout?.resume(); // keep draining its log so it never blocks on a full pipe
  child.stderr?.resume();
  return { url: `redis://127.0.0.1:${port}`, port, pid: child.pid as number, binary, stop: () => stop(child) };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    process.kill(child.pid as number, 'SIGTERM');
  });
}
