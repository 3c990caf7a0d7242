/**
 * `npm run bench [-- --smoke] [-- --scenario compare,fleet,noise] [-- --out DIR]`. Starts and stops its own dynalite
 * and user-directory stub on 127.0.0.1. Scenarios (all by default), each printing its table and writing JSON (and the
 * table as Markdown) to bench/results/:
 * - compare: what the breaker costs on the healthy path and saves in an outage, for (a) no breaker, (b) the naive
 *   breaker and (c) this project's breaker; then (c) on each store, DynamoDB (dynalite) and Redis (redis-server, when
 *   installed), side by side (bench/storeCompare.ts); exits 1 if this breaker lost a failure count or exceeded its
 *   half-open limit on any store.
 * - fleet: 64 instances against one item's scaled DynamoDB limits, through a throttling proxy (issue 11).
 * - noise: opening rules under 1% background failures, and the admitted fraction after a close (issue 14).
 */
import '../tools/quietAwsSdk';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startDynalite, type RunningDynalite } from '../local/dynalite';
import { startUserDirectoryStub, type RunningUserDirectoryStub } from '../local/userDirectoryStub';
import { epochNow } from './clock';
import { startDownstreamMeter, type RunningDownstreamMeter } from './downstreamMeter';
import { createBreakerTable, localClient } from './dynamo';
import { measureHealthyPath } from './healthyPath';
import { measureLambdaPackage } from './lambdaPackage';
import { machineInfo, versionInfo } from './machine';
import { runFleet, type FleetVariantResult } from './fleet/fleetScenario';
import { FLEET_SCHEMA_VERSION, renderFleetTable, type FleetResults } from './fleet/fleetResults';
import { FLEET_VARIANTS } from './fleet/fleetVariants';
import { runNoise, runRamp, type NoiseVariantResult, type RampResult } from './noise/noiseScenario';
import { NOISE_SCHEMA_VERSION, renderNoiseTable, type NoiseResults } from './noise/noiseResults';
import { NOISE_VARIANTS, RAMP_VARIANTS } from './noise/noiseVariants';
import { runOutage, type OutageResult } from './outage/outageScenario';
import { warmUp } from './outage/warmUp';
import { WorkerPool } from './outage/workerPool';
import { countRequests } from './requestCounter';
import { checkInvariants, renderTable, RESULTS_SCHEMA_VERSION, verdict, type BenchResults } from './results';
import { FLEET, FULL, NOISE, SMOKE, type BenchSettings } from './settings';
import { runStoreComparison } from './storeCompare';
import { startThrottlingProxy } from './throttlingProxy';
import type { VariantSpec } from './variants';

const TABLE_NAME = 'bench-circuit-breakers';
/** The discarded round before the fleet and noise scenarios (their workers may be cold). */
const WARM_UP_MS = 700;
export const SCENARIOS = ['compare', 'fleet', 'noise'] as const;
export type Scenario = (typeof SCENARIOS)[number];
const USAGE = `Usage: npm run bench [-- --smoke] [-- --scenario ${SCENARIOS.join('|')}[,...]] [-- --out DIR]`;

export interface BenchArgs {
  settings: BenchSettings;
  outDir: string;
  /** In the order given; every scenario when none is named. */
  scenarios: Scenario[];
}

export function parseArgs(args: readonly string[]): BenchArgs {
  let settings = FULL;
  let outDir = path.join(__dirname, 'results');
  const scenarios: Scenario[] = [];
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    if (arg === '--smoke') settings = SMOKE;
    else if (arg === '--out') {
      const dir = args[++i];
      if (!dir) throw new Error(`--out needs a directory\n${USAGE}`);
      outDir = path.resolve(dir);
    } else if (arg === '--scenario') {
      const names = args[++i];
      if (!names) throw new Error(`--scenario needs a name\n${USAGE}`);
      for (const name of names.split(',')) {
        if (!(SCENARIOS as readonly string[]).includes(name)) throw new Error(`unknown scenario "${name}" (known: ${SCENARIOS.join(', ')})\n${USAGE}`);
        if (!scenarios.includes(name as Scenario)) scenarios.push(name as Scenario);
      }
    } else throw new Error(`unknown argument "${arg}"\n${USAGE}`);
  }
  return { settings, outDir, scenarios: scenarios.length > 0 ? scenarios : [...SCENARIOS] };
}

/** Writes `<prefix>-<mode>-<stamp>.json`, `<prefix>latest-<mode>.json` and `.md`; returns the latest JSON's path. */
async function writeResults(outDir: string, prefix: string, mode: string, startedAt: Date, results: unknown, table: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const latest = path.join(outDir, `${prefix}latest-${mode}.json`);
  await writeFile(path.join(outDir, `${prefix === '' ? 'bench-' : prefix}${mode}-${stamp}.json`), json);
  await writeFile(latest, json);
  await writeFile(path.join(outDir, `${prefix}latest-${mode}.md`), `${table}\n`);
  return latest;
}

const log = (text: string): void => {
  process.stderr.write(`[bench] ${text}\n`);
};

async function main(): Promise<number> {
  const { settings, outDir, scenarios } = parseArgs(process.argv.slice(2));
  const began = epochNow();
  const stops: Array<() => Promise<void> | void> = [];
  const pools = new Map<number, WorkerPool>();
  /** One pool per size, shared by the scenarios: forking and loading the workers costs seconds. */
  const poolOf = (size: number): WorkerPool => {
    let pool = pools.get(size);
    if (!pool) {
      const started = WorkerPool.start(size);
      stops.push(() => started.stop());
      pools.set(size, started);
      pool = started;
    }
    return pool;
  };
  let exitCode = 0;
  try {
    const dynamo: RunningDynalite = await startDynalite();
    stops.push(dynamo.stop);
    const stub: RunningUserDirectoryStub = await startUserDirectoryStub();
    stops.push(stub.stop);
    const meter: RunningDownstreamMeter = await startDownstreamMeter(stub.url);
    stops.push(meter.stop);
    const client = localClient(dynamo.endpoint);
    stops.push(() => client.destroy());
    await createBreakerTable(client, TABLE_NAME);
    const shared = { dynamo, stub, meter, client, poolOf };

    for (const scenario of scenarios) {
      if (scenario === 'compare') exitCode = Math.max(exitCode, await runCompare(settings, outDir, shared));
      if (scenario === 'fleet') await runFleetScenario(settings.mode, outDir, shared);
      if (scenario === 'noise') await runNoiseScenario(settings.mode, outDir, shared);
    }
    console.log(`\n${settings.mode} run of ${scenarios.join(', ')}: ${((epochNow() - began) / 1000).toFixed(0)} s`);
    return exitCode;
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

interface Shared {
  dynamo: RunningDynalite;
  stub: RunningUserDirectoryStub;
  meter: RunningDownstreamMeter;
  client: ReturnType<typeof localClient>;
  poolOf: (size: number) => WorkerPool;
}

async function runCompare(settings: BenchSettings, outDir: string, { dynamo, stub, meter, client, poolOf }: Shared): Promise<number> {
  const startedAt = new Date();
  const began = epochNow();
  log(`${settings.mode} run: healthy path (${settings.healthy.calls} calls per variant)`);
  const counter = countRequests(client);
  const healthy = await measureHealthyPath(
    { client, counter, tableName: TABLE_NAME, directoryUrl: stub.url, breakerSettings: settings.breaker, naive: settings.naive },
    settings.healthy,
  );
  counter.detach();

  log(`outage: ${settings.outage.processes} processes x ${settings.outage.callersPerProcess} callers`);
  const pool = poolOf(settings.outage.processes);
  const context = { pool, stub, meter, dynamoEndpoint: dynamo.endpoint, client, tableName: TABLE_NAME };
  const variants: Array<[VariantSpec, VariantSpec]> = [
    [{ kind: 'none' }, { kind: 'none' }],
    [
      { kind: 'naive', circuit: 'outage-naive', ...settings.naive },
      { kind: 'naive', circuit: 'count-naive', failureThreshold: settings.countCheckBreaker.failureThreshold ?? 1_000_000, openMs: settings.naive.openMs },
    ],
    [
      { kind: 'breaker', circuit: 'outage-breaker', settings: settings.breaker },
      { kind: 'breaker', circuit: 'count-breaker', settings: settings.countCheckBreaker },
    ],
  ];
  // A discarded round first: the first scenario would otherwise pay for the workers' cold start (module loading, JIT, first connections).
  log('  warm-up round (discarded)');
  await runOutage(context, { kind: 'none' }, { kind: 'none' }, { ...settings.outage, outageMs: settings.outage.warmMs, settleMs: 0 });
  const outage: OutageResult[] = [];
  for (const [spec, countSpec] of variants) {
    log(`  ${spec.kind}`);
    outage.push(await runOutage(context, spec, countSpec, settings.outage));
  }

  const stores = await runStoreComparison(settings, {
    client,
    tableName: TABLE_NAME,
    dynamoEndpoint: dynamo.endpoint,
    dynaliteVersion: versionInfo().packages.dynalite ?? 'unknown version',
    stub,
    meter,
    pool,
    log,
  });

  log(`lambda package: bundling GetUser, timing ${settings.lambdaLoadRuns} fresh load(s)`);
  const lambdaPackage = await measureLambdaPackage(settings.lambdaLoadRuns);

  const results: BenchResults = {
    schemaVersion: RESULTS_SCHEMA_VERSION,
    mode: settings.mode,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(epochNow() - began),
    machine: machineInfo(),
    versions: versionInfo(),
    settings,
    healthy,
    outage,
    stores,
    lambdaPackage,
    invariants: checkInvariants(outage, stores),
  };
  const table = renderTable(results);
  const latest = await writeResults(outDir, '', settings.mode, startedAt, results, table);

  console.log(table);
  console.log(`\n${settings.mode} run on ${results.machine.cpuCount} x ${results.machine.cpuModel}, Node ${results.machine.node}, ${(results.durationMs / 1000).toFixed(0)} s`);
  console.log(`figures: ${latest}`);
  const { exitCode, lines } = verdict(results.invariants);
  for (const line of lines) (exitCode === 0 ? console.log : console.error)(line);
  return exitCode;
}

async function runFleetScenario(mode: 'full' | 'smoke', outDir: string, { dynamo, stub, meter, client, poolOf }: Shared): Promise<void> {
  const settings = FLEET[mode];
  const startedAt = new Date();
  const began = epochNow();
  const proxy = await startThrottlingProxy({ target: dynamo.endpoint });
  try {
    const context = { pool: poolOf(settings.processes), stub, meter, proxy, client, tableName: TABLE_NAME };
    log('fleet: warm-up round (discarded)');
    stub.setMode({ kind: 'up' });
    await warmUp(context.pool, { dynamoEndpoint: dynamo.endpoint, tableName: TABLE_NAME, downstreamUrl: meter.url, callers: settings.instancesPerProcess }, WARM_UP_MS);
    const variants: FleetVariantResult[] = [];
    for (const variant of FLEET_VARIANTS) {
      log(`fleet: ${variant.label} (${settings.processes} processes x ${settings.instancesPerProcess} instances)`);
      const result = await runFleet(context, variant, settings, `fleet-${variant.id}-${startedAt.getTime()}`);
      if (!result.available) log(`  not available: ${result.unavailableReason ?? ''}`);
      variants.push(result);
    }
    const results: FleetResults = {
      schemaVersion: FLEET_SCHEMA_VERSION,
      scenario: 'fleet',
      mode,
      startedAt: startedAt.toISOString(),
      durationMs: Math.round(epochNow() - began),
      machine: machineInfo(),
      versions: versionInfo(),
      settings,
      variants,
    };
    const table = renderFleetTable(results);
    const latest = await writeResults(outDir, 'fleet-', mode, startedAt, results, table);
    console.log(`\n${table}\n\nfleet: ${(results.durationMs / 1000).toFixed(0)} s; figures: ${latest}`);
  } finally {
    await proxy.stop();
  }
}

async function runNoiseScenario(mode: 'full' | 'smoke', outDir: string, { dynamo, stub, meter, client, poolOf }: Shared): Promise<void> {
  const settings = NOISE[mode];
  const startedAt = new Date();
  const began = epochNow();
  const context = { pool: poolOf(settings.processes), stub, meter, dynamoEndpoint: dynamo.endpoint, client, tableName: TABLE_NAME };
  log('noise: warm-up round (discarded)');
  stub.setMode({ kind: 'up' });
  await warmUp(context.pool, { dynamoEndpoint: dynamo.endpoint, tableName: TABLE_NAME, downstreamUrl: meter.url, callers: settings.instancesPerProcess }, WARM_UP_MS);
  const variants: NoiseVariantResult[] = [];
  for (const variant of NOISE_VARIANTS) {
    log(`noise: ${variant.label}`);
    variants.push(await runNoise(context, variant, settings, `noise-${variant.id}-${startedAt.getTime()}`));
  }
  const ramp: RampResult[] = [];
  for (const variant of RAMP_VARIANTS) {
    log(`ramp-up: ${variant.label}`);
    ramp.push(await runRamp(context, variant, settings, `ramp-${variant.id}-${startedAt.getTime()}`));
  }
  const results: NoiseResults = {
    schemaVersion: NOISE_SCHEMA_VERSION,
    scenario: 'noise',
    mode,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(epochNow() - began),
    machine: machineInfo(),
    versions: versionInfo(),
    settings,
    variants,
    ramp,
  };
  const table = renderNoiseTable(results);
  const latest = await writeResults(outDir, 'noise-', mode, startedAt, results, table);
  console.log(`\n${table}\n\nnoise: ${(results.durationMs / 1000).toFixed(0)} s; figures: ${latest}`);
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(2);
    },
  );
}
