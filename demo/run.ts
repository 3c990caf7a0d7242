/**
 * `npm run demo [-- --smoke] [-- --out DIR]`: starts the local service, drives traffic at it from a few
 * concurrent clients, plays the scripted incident (healthy, directory down, directory slow, directory healed)
 * with live progress in the terminal, then writes an HTML page with the SVG timeline and prints its path.
 * Everything it starts, it stops, also on Ctrl-C.
 */
import '../tools/quietAwsSdk';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startLocalService, type RunningLocalServiceWithStub } from '../local/localService';
import { renderIncidentPage } from './htmlPage';
import { FULL_SCRIPT, MAX_PHASE_EXTENSION_MS, SMOKE_SCRIPT, scriptDurationMs, type IncidentScript } from './incidentScript';
import { createProgressWriter, progressLine } from './progress';
import { createStateChangeReader } from './stateChangeLog';
import { TimelineRecorder, ANSWER_KINDS, emptyCounts } from './timeline';
import { startTraffic } from './traffic';

const USAGE = 'Usage: npm run demo [-- --smoke] [-- --out DIR]';
const CIRCUIT = 'user-directory';

export function parseArgs(args: readonly string[]): { script: IncidentScript; outDir: string } {
  let script = FULL_SCRIPT;
  let outDir = path.join(__dirname, 'out');
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    if (arg === '--smoke') script = SMOKE_SCRIPT;
    else if (arg === '--out') {
      const dir = args[++i];
      if (!dir) throw new Error(`--out needs a directory\n${USAGE}`);
      outDir = path.resolve(dir);
    } else throw new Error(`unknown argument "${arg}"\n${USAGE}`);
  }
  return { script, outDir };
}

const wait = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

async function main(): Promise<number> {
  const { script, outDir } = parseArgs(process.argv.slice(2));
  const interrupted = new AbortController();
  process.once('SIGINT', () => interrupted.abort(new Error('interrupted')));
  process.once('SIGTERM', () => interrupted.abort(new Error('terminated')));

  // breakerName is fixed so the log lines can be matched to the circuit; INFO keeps the per-call DEBUG lines out.
  const params = { ...script.breakerParams, breakerName: CIRCUIT, logLevel: 'INFO' };
  const recorder = new TimelineRecorder(script.bucketMs);
  // The demo's clock: ms since the traffic started, on the same epoch clock the containers log transitions with.
  let startedAt = Date.now();
  const now = (): number => Date.now() - startedAt;
  const stateChanges = createStateChangeReader(CIRCUIT, (change) => recorder.state(change.to, Math.max(0, change.at - startedAt), change.reason));

  console.log(`Starting the local service (dynalite, user-directory stub, serverless-offline with GetUser)...`);
  let service: RunningLocalServiceWithStub;
  try {
    service = await startLocalService({ port: 0, directoryPort: 0, lambdaPort: 0, params, onOutput: (text) => stateChanges.write(text), signal: interrupted.signal });
  } catch (error) {
    if (interrupted.signal.aborted) return 130;
    throw error;
  }

  try {
    // Warm-up, off the clock: one request per client at once, so each container the clients will use has built and
    // loaded GetUser, and the first phase's users are stored. Otherwise a cold start on a busy machine can outlast the
    // smoke script's short first phases, and the story (cached answers, the breaker opening) would depend on its speed.
    const healthyIds = script.phases[0].userIds;
    await Promise.all(
      Array.from({ length: script.clients }, (_, i) =>
        fetch(`${service.apiUrl}/user/${encodeURIComponent(healthyIds[i % healthyIds.length])}`, { signal: AbortSignal.timeout(30_000) }).then((response) => response.arrayBuffer()),
      ),
    );
    console.log(`API ${service.apiUrl}; playing a ${(scriptDurationMs(script) / 1000).toFixed(0)} s incident with ${script.clients} clients.\n`);
    startedAt = Date.now();
    // The circuit has no item yet: a missing item is CLOSED.
    recorder.state('CLOSED', 0);
    let phaseIndex = 0;
    let answersInPhase = 0;
    const traffic = startTraffic({
      apiUrl: service.apiUrl,
      clients: script.clients,
      thinkMs: script.thinkMs,
      userIds: () => script.phases[phaseIndex].userIds,
      onAnswer: (kind, at) => {
        answersInPhase += 1;
        recorder.answer(kind, at);
      },
      now,
      requestTimeoutMs: 10_000,
    });
    const progress = createProgressWriter();
    const showProgress = (): void => {
      // The last complete second of answers, as rates.
      const end = Math.floor(now() / script.bucketMs) * script.bucketMs;
      const perSecond = emptyCounts();
      const buckets = Math.max(1, Math.round(1000 / script.bucketMs));
      for (let i = 1; i <= buckets; i += 1) {
        const counts = recorder.countsAt(end - i * script.bucketMs);
        for (const kind of ANSWER_KINDS) perSecond[kind] += end - i * script.bucketMs >= 0 ? counts[kind] : 0;
      }
      progress.update(progressLine({ atMs: now(), phase: script.phases[phaseIndex].name, state: recorder.currentState(), perSecond }));
    };
    const ticker = setInterval(showProgress, script.progressMs);
    try {
      for (phaseIndex = 0; phaseIndex < script.phases.length && !interrupted.signal.aborted; phaseIndex += 1) {
        const phase = script.phases[phaseIndex];
        service.directory.setMode(phase.directory);
        recorder.phase(phase.name, now());
        answersInPhase = 0;
        const phaseStarted = now();
        await wait(phase.durationMs, interrupted.signal);
        while (answersInPhase < script.minAnswersPerPhase && now() - phaseStarted < phase.durationMs + MAX_PHASE_EXTENSION_MS && !interrupted.signal.aborted) {
          await wait(50, interrupted.signal);
        }
      }
      phaseIndex = script.phases.length - 1;
    } finally {
      clearInterval(ticker);
      await traffic.stop();
      progress.done();
    }
    if (interrupted.signal.aborted) return 130;

    const timeline = recorder.finish(now());
    const html = renderIncidentPage({
      timeline,
      generatedAt: new Date(),
      breakerSettings: params,
      script: script.phases.map((phase) => `${phase.name} (${(phase.durationMs / 1000).toFixed(1)} s): ${phase.description}`),
    });
    await mkdir(outDir, { recursive: true });
    const file = path.join(outDir, script.mode === 'smoke' ? 'incident-smoke.html' : 'incident.html');
    await writeFile(file, html);
    const path_ = timeline.transitions.map((t) => t.to).join(' → ');
    console.log(`\nBreaker went ${timeline.bands[0]?.state ?? '?'}${path_ ? ` → ${path_}` : ''}`);
    console.log(`Timeline written to ${file}`);
    return 0;
  } finally {
    await service.stop();
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    },
  );
}
