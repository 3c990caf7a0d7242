/**
 * `npm run bench:stores [-- --rounds N] [-- --out DIR]`: the two state stores side by side, operation by operation:
 * the latency (p50/p99, ms) of each of the six store operations and the requests each sends, on the local servers
 * the tests use (dynalite, and redis-server or valkey-server when installed). Every round walks one circuit through a
 * whole cycle (count, open, probe, acquire, trial success, release, read), so every operation is measured on the item
 * shape it meets in service. Prints a table; writes the figures as JSON to bench/results/stores-latest.json.
 *
 * These are loopback figures for emulators on this machine: they compare the stores' request shapes and local
 * servers, not DynamoDB with ElastiCache (see "Choosing a store" in README.md for those).
 */
import '../tools/quietAwsSdk';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createClient } from '@redis/client';
import { startDynalite } from '../local/dynalite';
import { findRedisServerBinary, startRedisServer } from '../local/redisServer';
import { DynamoDBStateStore, RedisStateStore, type StateStore } from '../src/breaker';
import type { RedisCommandClient } from '../src/breaker/store/RedisStateStore';
import { createBreakerTable, localClient } from './dynamo';
import { summarize, type LatencySummary } from './percentiles';
import { countRequests } from './requestCounter';

const OPERATIONS = ['read', 'recordCount', 'transition', 'acquirePermit', 'recordTrialSuccess', 'releasePermit'] as const;
type Operation = (typeof OPERATIONS)[number];

interface StoreFigures {
  store: string;
  latencyMs: Record<Operation, LatencySummary>;
  /** Requests the store sent per operation (mean over the rounds). */
  requestsPerOperation: Record<Operation, number>;
}

function parseArgs(args: readonly string[]): { rounds: number; outDir: string } {
  let rounds = 300;
  let outDir = path.join(__dirname, 'results');
  for (let i = 0; i < args.length; i += 1) {
    if (args[i] === '--rounds') rounds = Number(args[++i]);
    else if (args[i] === '--out') outDir = path.resolve(args[++i] ?? '');
    else throw new Error(`unknown argument "${args[i]}"\nUsage: npm run bench:stores [-- --rounds N] [-- --out DIR]`);
  }
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
  return { rounds, outDir };
}

/** Times one operation and counts the requests it sent. */
async function measure(samples: Record<Operation, number[]>, requests: Record<Operation, number>, count: () => number, operation: Operation, run: () => Promise<unknown>) {
  const before = count();
  const started = performance.now();
  await run();
  samples[operation].push(performance.now() - started);
  requests[operation] += count() - before;
}

async function benchStore(label: string, store: StateStore, count: () => number, rounds: number): Promise<StoreFigures> {
  const samples = Object.fromEntries(OPERATIONS.map((op) => [op, [] as number[]])) as Record<Operation, number[]>;
  const requests = Object.fromEntries(OPERATIONS.map((op) => [op, 0])) as Record<Operation, number>;
  const budget = () => ({ abortSignal: AbortSignal.timeout(10_000) });
  const now = Date.now();
  const expiresAt = Math.ceil(now / 1000) + 3_600;
  for (let round = 0; round < rounds; round += 1) {
    const circuit = `bench-${label}-${round}`;
    const m = (operation: Operation, run: () => Promise<unknown>) => measure(samples, requests, count, operation, run);
    await m('recordCount', () => store.recordCount(circuit, { increments: { f_1000: 1 }, staleCounters: [], now, expiresAt }, budget()));
    await m('transition', () => store.transition(circuit, { from: { version: 0, state: 'CLOSED' }, to: 'OPEN', version: 1, openUntil: now, backoffStep: 0, remove: ['f_1000'], now, expiresAt }, budget()));
    const permit = { slot: 0, token: 'a', expiresAt: now + 5_000 };
    await store.transition(circuit, { from: { version: 1, state: 'OPEN' }, to: 'HALF_OPEN', version: 2, backoffStep: 0, remove: [], now, expiresAt, permit }, budget());
    await m('acquirePermit', () => store.acquirePermit(circuit, { version: 2, permit: { slot: 1, token: 'b', expiresAt: now + 5_000 }, now }, budget()));
    await m('recordTrialSuccess', () => store.recordTrialSuccess(circuit, { version: 2, slot: 0, token: 'a' }, budget()));
    await m('releasePermit', () => store.releasePermit(circuit, { version: 2, slot: 1, token: 'b' }, budget()));
    await m('read', () => store.read(circuit, budget()));
  }
  return {
    store: label,
    latencyMs: Object.fromEntries(OPERATIONS.map((op) => [op, summarize(samples[op])])) as Record<Operation, LatencySummary>,
    requestsPerOperation: Object.fromEntries(OPERATIONS.map((op) => [op, requests[op] / rounds])) as Record<Operation, number>,
  };
}

function renderTable(figures: StoreFigures[]): string {
  const header = `| operation | ${figures.map((f) => `${f.store} p50 / p99 ms | ${f.store} requests`).join(' | ')} |`;
  const rule = `|---|${figures.map(() => '---|---').join('|')}|`;
  const rows = OPERATIONS.map(
    (op) => `| ${op} | ${figures.map((f) => `${f.latencyMs[op].p50.toFixed(2)} / ${f.latencyMs[op].p99.toFixed(2)} | ${f.requestsPerOperation[op]}`).join(' | ')} |`,
  );
  return [header, rule, ...rows].join('\n');
}

async function main(): Promise<void> {
  const { rounds, outDir } = parseArgs(process.argv.slice(2));
  const stops: Array<() => Promise<void> | void> = [];
  const figures: StoreFigures[] = [];
  try {
    const dynamo = await startDynalite();
    stops.push(dynamo.stop);
    const client = localClient(dynamo.endpoint);
    stops.push(() => client.destroy());
    await createBreakerTable(client, 'bench-store-latency');
    const counter = countRequests(client);
    figures.push(await benchStore('dynalite', new DynamoDBStateStore({ tableName: 'bench-store-latency', client }), () => counter.total(), rounds));

    if (findRedisServerBinary() === undefined) {
      process.stderr.write('[bench:stores] no redis-server or valkey-server installed: Redis skipped (apt-get install redis-server)\n');
    } else {
      const server = await startRedisServer();
      stops.push(server.stop);
      const redis = createClient({ url: server.url, socket: { reconnectStrategy: false } });
      await redis.connect();
      stops.push(() => redis.destroy());
      let sent = 0;
      const counted: RedisCommandClient = { sendCommand: (args, options) => ((sent += 1), redis.sendCommand(args, options)) };
      figures.push(await benchStore('redis', new RedisStateStore({ client: counted }), () => sent, rounds));
    }
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
  const table = renderTable(figures);
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, 'stores-latest.json'), `${JSON.stringify({ rounds, startedAt: new Date().toISOString(), figures }, null, 2)}\n`);
  console.log(table);
  console.log(`\n${rounds} rounds per store on 127.0.0.1; figures: ${path.join(outDir, 'stores-latest.json')}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
