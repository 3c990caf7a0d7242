/** The outage scenario's worker processes: fork them, message them, collect one answer from each. */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { FromWorker, ToWorker } from './protocol';

const WORKER_FILE = path.join(__dirname, 'worker.ts');
const EXIT_GRACE_MS = 5_000;

type Listener = (message: FromWorker) => void;

export class WorkerPool {
  private readonly listeners = new Set<Listener>();
  private readonly stderrTails: string[];

  private constructor(private readonly children: ChildProcess[]) {
    this.stderrTails = children.map(() => '');
    children.forEach((child, index) => {
      child.on('message', (message: FromWorker) => {
        for (const listener of [...this.listeners]) listener(message);
      });
      // Kept for error messages only: workers print the SDK's Node-version warning, which is noise here.
      child.stderr?.on('data', (chunk: Buffer) => {
        this.stderrTails[index] = (this.stderrTails[index] + chunk.toString()).slice(-4000);
      });
      child.once('exit', (code, signal) => {
        if (code !== 0 && code !== null) {
          const failed: FromWorker = { type: 'failed', workerIndex: index, message: `worker ${index} exited with code ${code} ${signal ?? ''}\n${this.stderrTails[index]}` };
          for (const listener of [...this.listeners]) listener(failed);
        }
      });
    });
  }

  static start(size: number): WorkerPool {
    const children = Array.from({ length: size }, () =>
      fork(WORKER_FILE, [], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
        env: { ...process.env, AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR' },
      }),
    );
    return new WorkerPool(children);
  }

  get size(): number {
    return this.children.length;
  }

  send(workerIndex: number, message: ToWorker): void {
    this.children[workerIndex].send(message);
  }

  broadcast(message: ToWorker): void {
    for (const child of this.children) child.send(message);
  }

  /** Calls `listener` for every message until the returned function is called. */
  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resolves with one message of `type` from each worker, in worker order. Rejects when a worker fails or
   * `timeoutMs` passes. Call it before sending the message that asks for the answers.
   */
  collect<T extends FromWorker['type']>(type: T, timeoutMs: number): Promise<Array<Extract<FromWorker, { type: T }>>> {
    return new Promise((resolve, reject) => {
      const answers = new Map<number, Extract<FromWorker, { type: T }>>();
      const done = (error?: Error): void => {
        clearTimeout(timer);
        unsubscribe();
        if (error) reject(error);
        else resolve([...answers.entries()].sort(([a], [b]) => a - b).map(([, message]) => message));
      };
      const timer = setTimeout(() => done(new Error(`timed out after ${timeoutMs} ms waiting for '${type}' from ${this.size - answers.size} worker(s)`)), timeoutMs);
      const unsubscribe = this.on((message) => {
        if (message.type === 'failed') return done(new Error(`bench worker ${message.workerIndex} failed: ${message.message}`));
        if (message.type !== type) return;
        const index = 'workerIndex' in message ? message.workerIndex : (message as { report: { workerIndex: number } }).report.workerIndex;
        answers.set(index, message as Extract<FromWorker, { type: T }>);
        if (answers.size === this.size) done();
      });
    });
  }

  /** Asks every worker to exit; kills those still running after a grace period. */
  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            if (child.connected) child.send({ type: 'exit' } satisfies ToWorker);
            else child.kill('SIGTERM');
          }),
      ),
    );
  }
}
