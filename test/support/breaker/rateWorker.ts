/**
 * A child process posing as one Lambda container for the failure-rate scenarios (failureRate.test.ts): one or more
 * CircuitBreakers (one per circuit name) on the shared DynamoDB table, several concurrent callers, and a downstream
 * that fails a given fraction of calls (a seeded random sequence: the same run every time).
 *
 * Time is the parent's: every phase sets this container's clock to the phase's time and keeps it there while the
 * callers run, so which bucket an outcome lands in, when a cache expires and when a flush is due never depend on how
 * fast the machine is. Never sleeps.
 *
 * Parent -> worker: configure | phase.  Worker -> parent: ready | phaseDone.
 */
import { CircuitBreaker, CircuitOpenError, DynamoDBStateStore, type CircuitBreakerOptions, type RecordCountRequest, type StateStore } from '../../../src/breaker';
import { clientFor } from './breakerTable';

export type RateWorkerCommand =
  /** Fresh breakers (as a new container would have). `seed` makes the downstream's failures and the breakers' draws repeatable. */
  | { cmd: 'configure'; endpoint: string; tableName: string; seed: number; breakers: Array<{ name: string; options: Omit<CircuitBreakerOptions, 'name' | 'store' | 'now' | 'random'> }> }
  /** At `time`, each of `callers` callers makes `calls` calls through every breaker in `names`; a fraction `failRate` of downstream calls fail. */
  | { cmd: 'phase'; time: number; callers: number; calls: number; failRate: number; names: string[] };

/** What happened on one circuit in this container, since configure. */
export interface CircuitTally {
  /** Calls that reached the downstream (admitted). */
  downstream: number;
  failed: number;
  /** Rejected calls, by the state that rejected them (OPEN, HALF_OPEN, RAMPING_UP, ...). */
  rejected: Record<string, number>;
  /** stateChange events to OPEN from this container (it won the opening write), with the time. */
  opened: number[];
  storeErrors: number;
  /** Store requests sent (reads and writes). */
  storeRequests: number;
  /** What this container's applied recordCount writes added to the item: calls (f_ + s_) and failures (f_). */
  flushed: { calls: number; failures: number };
}

export type RateWorkerReply = { type: 'ready'; pid: number } | { type: 'phaseDone'; tallies: Record<string, CircuitTally> };

const breakers = new Map<string, CircuitBreaker>();
const tallies = new Map<string, CircuitTally>();
let time = 0;
let random: () => number = Math.random;
let client: ReturnType<typeof clientFor> | undefined;

const send = (reply: RateWorkerReply) => process.send?.(reply);

/** mulberry32: a small seeded generator, so every run draws the same failures. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The store, counting requests and what applied count writes added. */
function counting(inner: StateStore, tally: CircuitTally): StateStore {
  const wrap =
    <K extends keyof StateStore>(operation: K) =>
    (async (...args: unknown[]) => {
      tally.storeRequests++;
      const result = await (inner[operation] as (...a: unknown[]) => Promise<{ applied?: boolean }>).apply(inner, args);
      if (operation === 'recordCount' && result.applied) {
        for (const [counter, n] of Object.entries((args[1] as RecordCountRequest).increments)) {
          tally.flushed.calls += n;
          if (counter.startsWith('f_')) tally.flushed.failures += n;
        }
      }
      return result;
    }) as StateStore[K];
  return {
    read: wrap('read'),
    recordCount: wrap('recordCount'),
    transition: wrap('transition'),
    acquirePermit: wrap('acquirePermit'),
    releasePermit: wrap('releasePermit'),
    recordTrialSuccess: wrap('recordTrialSuccess'),
  };
}

async function phase(command: Extract<RateWorkerCommand, { cmd: 'phase' }>): Promise<void> {
  time = command.time;
  const downstream = (tally: CircuitTally) => async () => {
    tally.downstream++;
    if (random() < command.failRate) {
      tally.failed++;
      throw new Error('downstream failed');
    }
    return 'ok';
  };
  await Promise.all(
    Array.from({ length: command.callers }, async () => {
      for (let i = 0; i < command.calls; i++) {
        for (const name of command.names) {
          const tally = tallies.get(name) as CircuitTally;
          try {
            await (breakers.get(name) as CircuitBreaker).execute(downstream(tally));
          } catch (error) {
            if (error instanceof CircuitOpenError) tally.rejected[error.state] = (tally.rejected[error.state] ?? 0) + 1;
          }
        }
      }
    }),
  );
  send({ type: 'phaseDone', tallies: Object.fromEntries(tallies) });
}

process.on('message', (message: RateWorkerCommand) => {
  switch (message.cmd) {
    case 'configure': {
      client?.destroy();
      client = clientFor(message.endpoint);
      random = seeded(message.seed);
      breakers.clear();
      tallies.clear();
      for (const { name, options } of message.breakers) {
        const tally: CircuitTally = { downstream: 0, failed: 0, rejected: {}, opened: [], storeErrors: 0, storeRequests: 0, flushed: { calls: 0, failures: 0 } };
        const store = counting(new DynamoDBStateStore({ tableName: message.tableName, client }), tally);
        const breaker = new CircuitBreaker({ ...options, name, store, now: () => time, random: () => random() });
        breaker.onEvent((event) => {
          if (event.type === 'stateChange' && event.to === 'OPEN') tally.opened.push(event.at);
          if (event.type === 'storeError') tally.storeErrors++;
        });
        breakers.set(name, breaker);
        tallies.set(name, tally);
      }
      send({ type: 'ready', pid: process.pid });
      break;
    }
    case 'phase':
      void phase(message);
      break;
  }
});

process.on('disconnect', () => {
  client?.destroy();
  process.exit(0);
});

send({ type: 'ready', pid: process.pid });
