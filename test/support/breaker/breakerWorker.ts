/**
 * A child process posing as one Lambda container: one CircuitBreaker on the shared store (DynamoDB or Redis), several
 * concurrent callers of the downstream. Driven by the parent over IPC (see multiProcess.test.ts); never sleeps.
 *
 * Parent -> worker: configure | hammer | burst | skew.  Worker -> parent: ready | hammerDone | outcome.
 */
import { CircuitBreaker, CircuitOpenError, type CircuitBreakerOptions } from '../../../src/breaker';
import { storeFromTarget, type StoreTarget } from './storeBackend';

export type WorkerCommand =
  /** A fresh breaker (as a new container would have), on the real clock. */
  | { cmd: 'configure'; target: StoreTarget; downstreamUrl: string; options: Omit<CircuitBreakerOptions, 'store' | 'now'> }
  /** Every caller calls in a loop until the circuit rejects it or it made maxCalls calls. */
  | { cmd: 'hammer'; callers: number; maxCalls: number }
  /** Every caller makes one call; each outcome is reported as it settles. */
  | { cmd: 'burst'; callers: number }
  /** Move this worker's clock (e.g. past the open period). */
  | { cmd: 'skew'; offsetMs: number };

export type WorkerReply =
  | { type: 'ready'; pid: number }
  | { type: 'hammerDone'; calls: number; rejections: number; opened: number; storeErrors: number }
  | { type: 'outcome'; result: 'ok' | 'CircuitOpenError' | 'error'; state?: string };

let breaker: CircuitBreaker | undefined;
let downstreamUrl = '';
let offsetMs = 0;
let opened = 0;
let storeErrors = 0;
let connection: { close(): void } | undefined;

const send = (reply: WorkerReply) => process.send?.(reply);

async function callDownstream(signal: AbortSignal): Promise<string> {
  const response = await fetch(`${downstreamUrl}/work`, { signal });
  const body = await response.text();
  if (!response.ok) throw new Error(`downstream answered ${response.status}`);
  return body;
}

async function hammer(callers: number, maxCalls: number): Promise<void> {
  const active = breaker as CircuitBreaker;
  let calls = 0;
  let rejections = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (let i = 0; i < maxCalls; i++) {
        try {
          await active.execute(callDownstream);
          calls++;
        } catch (error) {
          if (error instanceof CircuitOpenError) {
            rejections++;
            return;
          }
          calls++;
        }
      }
    }),
  );
  send({ type: 'hammerDone', calls, rejections, opened, storeErrors });
}

function burst(callers: number): void {
  const active = breaker as CircuitBreaker;
  for (let i = 0; i < callers; i++) {
    active.execute(callDownstream).then(
      () => send({ type: 'outcome', result: 'ok' }),
      (error: unknown) => send(error instanceof CircuitOpenError ? { type: 'outcome', result: 'CircuitOpenError', state: error.state } : { type: 'outcome', result: 'error' }),
    );
  }
}

async function configure(message: Extract<WorkerCommand, { cmd: 'configure' }>): Promise<void> {
  connection?.close();
  const { store, close } = await storeFromTarget(message.target);
  connection = { close };
  downstreamUrl = message.downstreamUrl;
  offsetMs = 0; // a fresh container on the real clock
  opened = 0;
  storeErrors = 0;
  breaker = new CircuitBreaker({ ...message.options, store, now: () => Date.now() + offsetMs });
  breaker.onEvent((event) => {
    if (event.type === 'stateChange' && event.to === 'OPEN') opened++;
    if (event.type === 'storeError') storeErrors++;
  });
  send({ type: 'ready', pid: process.pid });
}

process.on('message', (message: WorkerCommand) => {
  switch (message.cmd) {
    case 'configure':
      void configure(message);
      break;
    case 'hammer':
      void hammer(message.callers, message.maxCalls);
      break;
    case 'burst':
      burst(message.callers);
      break;
    case 'skew':
      offsetMs = message.offsetMs;
      send({ type: 'ready', pid: process.pid });
      break;
  }
});

process.on('disconnect', () => {
  connection?.close();
  process.exit(0);
});

send({ type: 'ready', pid: process.pid });
