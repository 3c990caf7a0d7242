/**
 * The scripted incident: healthy, directory down, directory slow, directory healed. The full script takes about
 * 45 s; the smoke script compresses the same story into a few seconds (for the test), with a faster breaker.
 */
import type { DirectoryMode } from '../local/userDirectoryStub';

export interface IncidentPhase {
  name: string;
  /** What the viewer is told about this phase. */
  description: string;
  durationMs: number;
  directory: DirectoryMode;
  /** Users the clients ask for in this phase. */
  userIds: readonly string[];
}

export interface IncidentScript {
  mode: 'full' | 'smoke';
  phases: readonly IncidentPhase[];
  /** serverless.yml params for the breaker (passed as --param): short open periods, so the story fits. */
  breakerParams: Record<string, string>;
  clients: number;
  /** Pause between one client's requests. */
  thinkMs: number;
  bucketMs: number;
  progressMs: number;
  /**
   * A phase lasts its durationMs and, beyond it, until this many answers came back in it (at most
   * MAX_PHASE_EXTENSION_MS more): on a busy machine a short phase could otherwise pass before its story happened.
   */
  minAnswersPerPhase: number;
}

/** How much longer than its durationMs a phase may run while waiting for minAnswersPerPhase answers. */
export const MAX_PHASE_EXTENSION_MS = 15_000;

// demo-3 is first asked for once the incident starts, so it has no cached copy: its answers show as rejected.
const REGULARS = ['demo-1', 'demo-2'];
const EVERYONE = ['demo-1', 'demo-2', 'demo-3'];

function phases(ms: { healthy: number; down: number; slow: number; healed: number }, latencyMs: number, slowMs: number): IncidentPhase[] {
  const normal: DirectoryMode = { kind: 'slow', delayMs: latencyMs };
  return [
    { name: 'healthy', description: `the directory answers in ${latencyMs} ms; clients ask for demo-1 and demo-2`, durationMs: ms.healthy, directory: normal, userIds: REGULARS },
    { name: 'directory down', description: 'the directory answers 503; clients also ask for demo-3, never cached', durationMs: ms.down, directory: { kind: 'down' }, userIds: EVERYONE },
    { name: 'directory slow', description: `the directory takes ${slowMs} ms, past the breaker's timeout`, durationMs: ms.slow, directory: { kind: 'slow', delayMs: slowMs }, userIds: EVERYONE },
    { name: 'directory healed', description: `the directory answers in ${latencyMs} ms again`, durationMs: ms.healed, directory: normal, userIds: EVERYONE },
  ];
}

export const FULL_SCRIPT: IncidentScript = {
  mode: 'full',
  phases: phases({ healthy: 8_000, down: 12_000, slow: 10_000, healed: 14_000 }, 80, 1_500),
  breakerParams: {
    breakerFailureThreshold: '5',
    breakerWindowMs: '10000',
    breakerTimeoutMs: '1000',
    breakerSlowCallMs: '800',
    breakerOpenMs: '2000',
    breakerMaxOpenMs: '6000',
    breakerBackoffMultiplier: '2',
    // One trial at a time and two successes to close: the half-open band is wide enough to see.
    breakerHalfOpenMaxCalls: '1',
    breakerHalfOpenSuccessThreshold: '2',
  },
  clients: 4,
  thinkMs: 40,
  bucketMs: 500,
  progressMs: 1_000,
  minAnswersPerPhase: 0,
};

export const SMOKE_SCRIPT: IncidentScript = {
  mode: 'smoke',
  phases: phases({ healthy: 1_500, down: 2_000, slow: 1_500, healed: 3_000 }, 120, 600),
  breakerParams: {
    ...FULL_SCRIPT.breakerParams,
    breakerFailureThreshold: '3',
    breakerWindowMs: '5000',
    breakerTimeoutMs: '400',
    breakerSlowCallMs: '300',
    breakerOpenMs: '400',
    breakerMaxOpenMs: '800',
  },
  clients: 3,
  thinkMs: 20,
  bucketMs: 250,
  progressMs: 1_000,
  // Enough for the breaker to open (3 failures), serve cached copies, probe and close, whatever the machine's speed.
  minAnswersPerPhase: 20,
};

export function scriptDurationMs(script: IncidentScript): number {
  return script.phases.reduce((sum, phase) => sum + phase.durationMs, 0);
}
