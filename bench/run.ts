/**
 * `npm run bench [-- --smoke] [-- --out DIR]`: what the breaker costs on the healthy path and saves in an outage,
 * for (a) no breaker, (b) the naive breaker and (c) this project's breaker, in one run. Starts and stops its own
 * dynalite and user-directory stub on 127.0.0.1. Prints one table, writes the figures as JSON (and the table as
 * Markdown) to bench/results/, and exits 1 if this breaker lost a failure count or exceeded its half-open limit.
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
import { runOutage, type OutageResult } from './outage/outageScenario';
import { WorkerPool } from './outage/workerPool';
import { countRequests } from './requestCounter';
import { checkInvariants, renderTable, RESULTS_SCHEMA_VERSION, verdict, type BenchResults } from './results';
import { FULL, SMOKE, type BenchSettings } from './settings';
import type { VariantSpec } from './variants';

const TABLE_NAME = 'bench-circuit-breakers';
const USAGE = 'Usage: npm run bench [-- --smoke] [-- --out DIR]';

export interface BenchArgs {
  settings: BenchSettings;
  outDir: string;
}

export function parseArgs(args: readonly string[]): BenchArgs {
  let settings = FULL;
  let outDir = path.join(__dirname, 'results');
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    if (arg === '--smoke') settings = SMOKE;
    else if (arg === '--out') {
      const dir = args[++i];
      if (!dir) throw new Error(`--out needs a directory\n${USAGE}`);
      outDir = path.resolve(dir);
    } else throw new Error(`unknown argument "${arg}"\n${USAGE}`);
  }
  return { settings, outDir };
}

const log = (text: string): void => {
  process.stderr.write(`[bench] ${text}\n`);
};

async function main(): Promise<number> {
  const { settings, outDir } = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const began = epochNow();
  const stops: Array<() => Promise<void> | void> = [];
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

    log(`${settings.mode} run: healthy path (${settings.healthy.calls} calls per variant)`);
    const counter = countRequests(client);
    const healthy = await measureHealthyPath(
      { client, counter, tableName: TABLE_NAME, directoryUrl: stub.url, breakerSettings: settings.breaker, naive: settings.naive },
      settings.healthy,
    );
    counter.detach();

    log(`outage: ${settings.outage.processes} processes x ${settings.outage.callersPerProcess} callers`);
    const pool = WorkerPool.start(settings.outage.processes);
    stops.push(() => pool.stop());
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
      lambdaPackage,
      invariants: checkInvariants(outage),
    };
    const table = renderTable(results);
    await mkdir(outDir, { recursive: true });
    const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
    const json = `${JSON.stringify(results, null, 2)}\n`;
    await writeFile(path.join(outDir, `bench-${settings.mode}-${stamp}.json`), json);
    await writeFile(path.join(outDir, `latest-${settings.mode}.json`), json);
    await writeFile(path.join(outDir, `latest-${settings.mode}.md`), `${table}\n`);

    console.log(table);
    console.log(`\n${settings.mode} run on ${results.machine.cpuCount} x ${results.machine.cpuModel}, Node ${results.machine.node}, ${(results.durationMs / 1000).toFixed(0)} s`);
    console.log(`figures: ${path.join(outDir, `latest-${settings.mode}.json`)}`);
    const { exitCode, lines } = verdict(results.invariants);
    for (const line of lines) (exitCode === 0 ? console.log : console.error)(line);
    return exitCode;
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
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
