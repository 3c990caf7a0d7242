/**
 * `npm run breaker -- <action>`: see and steer a stage's circuit during an incident. Every action goes through the
 * breaker library, so an override is the same conditional write the service itself would make, and every container
 * obeys it once its cached state expires (an OPEN state is cached until its open period ends).
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { CircuitBreaker, DynamoDBStateStore, type CircuitSnapshot } from '../src/breaker';
import type { StageBreakerSettings } from './stageBreakerSettings';

export const ACTIONS = ['status', 'force-open', 'disable', 'reset'] as const;
export type BreakerAction = (typeof ACTIONS)[number];

export interface BreakerCommand {
  action: BreakerAction;
  stage: string;
  /** The circuit's name; default: the stage's breakerName param. */
  circuit?: string;
  region?: string;
  /** A local DynamoDB endpoint (npm start prints dynalite's); absent: AWS, with the SDK's usual credentials. */
  endpoint?: string;
  json: boolean;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `usage: npm run breaker -- <${ACTIONS.join('|')}> [--stage dev] [--region us-east-1] [--endpoint URL] [--circuit NAME] [--json]

  status      the shared state: state, failures (and, rate policy, calls and the failure rate) in the window, the
              ramp-up fraction after a close, when it may next be probed, trials in flight
  force-open  reject every call on every container until reset
  disable     let every call through (failures still counted) until reset
  reset       closed, counts cleared, backoff reset

--endpoint points at a local DynamoDB (npm start prints it); without it the command talks to AWS with your credentials
(it needs dynamodb:GetItem and dynamodb:UpdateItem on the stage's circuit-breakers table), in the region given by
--region, else AWS_REGION or AWS_DEFAULT_REGION, else the stage's region in serverless.yml.`;

const VALUE_FLAGS = ['--stage', '--region', '--endpoint', '--circuit'] as const;

export function parseBreakerCommand(argv: readonly string[]): BreakerCommand {
  const values: Partial<Record<(typeof VALUE_FLAGS)[number], string>> = {};
  let action: BreakerAction | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') ? (arg.split(/=(.*)/s, 2) as [string, string | undefined]) : [arg, undefined];
    if (flag === '--json') {
      json = true;
    } else if ((VALUE_FLAGS as readonly string[]).includes(flag)) {
      const value = inline ?? argv[++i];
      if (value === undefined || value === '' || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      values[flag as (typeof VALUE_FLAGS)[number]] = value;
    } else if (flag.startsWith('-')) {
      throw new UsageError(`unknown option "${arg}"`);
    } else if (action !== undefined) {
      throw new UsageError(`one action at a time; got "${action}" and "${arg}"`);
    } else if ((ACTIONS as readonly string[]).includes(arg)) {
      action = arg as BreakerAction;
    } else {
      throw new UsageError(`unknown action "${arg}"; expected one of ${ACTIONS.join(', ')}`);
    }
  }
  if (action === undefined) throw new UsageError(`an action is needed: one of ${ACTIONS.join(', ')}`);
  const stage = values['--stage'] ?? 'dev';
  if (!/^[a-zA-Z0-9-]+$/.test(stage)) throw new UsageError(`--stage must be letters, digits and '-', got "${stage}"`);
  if (values['--endpoint'] !== undefined && !/^https?:\/\/[^\s/]+/.test(values['--endpoint'])) {
    throw new UsageError(`--endpoint must be an http(s) URL, got "${values['--endpoint']}"`);
  }
  return {
    action,
    stage,
    json,
    ...(values['--circuit'] !== undefined ? { circuit: values['--circuit'] } : {}),
    ...(values['--region'] !== undefined ? { region: values['--region'] } : {}),
    ...(values['--endpoint'] !== undefined ? { endpoint: values['--endpoint'] } : {}),
  };
}

/**
 * The region the command talks to, first found: `--region`, the AWS environment (AWS_REGION, AWS_DEFAULT_REGION),
 * the stage's region in serverless.yml (where `sls deploy --stage <stage>` put its table). Undefined when none is known.
 */
export function regionFor(command: BreakerCommand, stageRegion?: string, env: Record<string, string | undefined> = process.env): string | undefined {
  return command.region || env.AWS_REGION || env.AWS_DEFAULT_REGION || stageRegion || undefined;
}

export function clientConfigFor(command: BreakerCommand, stageRegion?: string, env: Record<string, string | undefined> = process.env): DynamoDBClientConfig {
  if (command.endpoint === undefined) {
    const region = regionFor(command, stageRegion, env);
    return region ? { region } : {};
  }
  // A local server takes any region and credentials.
  return { endpoint: command.endpoint, region: command.region ?? 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
}

export async function runBreakerCommand(
  command: BreakerCommand,
  settings: StageBreakerSettings,
  client: DynamoDBClient,
  now: () => number = Date.now,
): Promise<CircuitSnapshot> {
  const breaker = new CircuitBreaker({
    name: command.circuit ?? settings.circuit,
    store: new DynamoDBStateStore({ tableName: settings.tableName, client }),
    windowMs: settings.windowMs,
    // The stage's policy, so `status` reads the counts as the service does (calls and rate, ramp-up fraction).
    ...(settings.rate ? settings.rate : { failureThreshold: settings.failureThreshold }),
    ...settings.rampUp,
    // An operator at a terminal can wait longer for an answer than a request can.
    storeTimeoutMs: 5_000,
    storeMaxAttempts: 3,
    now,
  });
  switch (command.action) {
    case 'status':
      return breaker.getState();
    case 'force-open':
      return breaker.forceOpen();
    case 'disable':
      return breaker.disable();
    case 'reset':
      return breaker.reset();
  }
}

/**
 * The snapshot as an operator sees it. The fields about the opening (INTERFACE item 3) are optional: a breaker that
 * does not record them yet, or an item written before it did, still prints. `retryAfterMs` is null for FORCED_OPEN.
 */
export type OperatorSnapshot = Omit<CircuitSnapshot, 'retryAfterMs'> & {
  retryAfterMs: number | null;
  /** When the circuit opened, epoch ms. */
  openedAt?: number;
  /** What opened it: failureThreshold, failureRate, trialFailed, ... */
  openReason?: string;
  /** Failures in the window that opened it. */
  openFailures?: number;
  /** Calls in that window (rate policy). */
  openCalls?: number;
  /** The backoff step of the current open period (older breakers call it reopenCount). */
  backoffStep?: number;
};

/** What `--json` prints: the snapshot, with no end promised for a circuit an operator holds open. */
export function snapshotForOutput(snapshot: CircuitSnapshot | OperatorSnapshot): OperatorSnapshot {
  return { ...snapshot, retryAfterMs: snapshot.state === 'FORCED_OPEN' ? null : snapshot.retryAfterMs };
}

/** One human-readable paragraph for a terminal. `now` (epoch ms) gives "ago" and "in" their meaning. */
export function describeSnapshot(given: CircuitSnapshot | OperatorSnapshot, settings: StageBreakerSettings, now: number = Date.now()): string {
  const snapshot = snapshotForOutput(given);
  const lines = [`circuit ${snapshot.circuit} (stage ${settings.stage}, table ${settings.tableName}): ${snapshot.state}`];
  const backoffStep = snapshot.backoffStep ?? snapshot.reopenCount;
  if (snapshot.state === 'OPEN') {
    // The counts were cleared when it opened: what matters now is why and when it opened, and when it is probed.
    lines.push(`  ${openingOf(snapshot, settings, now)}`);
    if (snapshot.openUntil !== undefined) {
      lines.push(`  next probe at ${iso(snapshot.openUntil)} (in ${Math.ceil(Math.max(0, snapshot.openUntil - now) / 1000)} s)`);
    }
    lines.push(`  backoff step ${backoffStep} (${backoffStep === 0 ? 'first open period since it last closed' : `reopened ${backoffStep} time(s) from half-open since it last closed`})`);
  } else if (settings.rate && snapshot.calls !== undefined) {
    const rate = snapshot.failureRate ?? 0;
    lines.push(
      `  calls in the last ${settings.windowMs / 1000} s: ${snapshot.calls}, failures: ${snapshot.failures} (${percent(rate)}); ` +
        `opens at ${percent(settings.rate.failureRateThreshold)} over at least ${settings.rate.minimumCalls} calls (counts reach the item within a flush period)`,
    );
    if (backoffStep > 0) lines.push(`  reopened ${backoffStep} time(s) from half-open since it last closed`);
  } else {
    lines.push(`  failures in the last ${settings.windowMs / 1000} s: ${snapshot.failures} of ${settings.failureThreshold} that open it`);
    if (backoffStep > 0) lines.push(`  reopened ${backoffStep} time(s) from half-open since it last closed`);
  }
  if (snapshot.rampUpFraction !== undefined) {
    const since = snapshot.closedAt === undefined ? '' : ` closed at ${iso(snapshot.closedAt)} (${Math.max(0, Math.round((now - snapshot.closedAt) / 1000))} s ago);`;
    lines.push(`  ramping up:${since} admitting ${percent(snapshot.rampUpFraction)} of calls, the rest rejected as RAMPING_UP`);
  }
  if (snapshot.state === 'HALF_OPEN') lines.push(`  trials in flight: ${snapshot.trialsInFlight}, successful trials: ${snapshot.trialSuccesses}`);
  if (snapshot.state === 'FORCED_OPEN') lines.push('  forced open by an operator: every call is rejected until `reset` (no end is scheduled)');
  if (snapshot.state === 'DISABLED') lines.push('  disabled by an operator: every call passes (failures still counted) until `reset`');
  if (snapshot.version === null && snapshot.problems.length === 0) lines.push('  no state stored yet (no failure recorded): closed');
  if (snapshot.problems.length > 0) lines.push(`  the stored item is malformed (${snapshot.problems.join('; ')}); treated as closed until the next write repairs it`);
  return lines.join('\n');
}

/** "opened at <time> (<n> s ago): <reason>, <what crossed the threshold>". */
function openingOf(snapshot: OperatorSnapshot, settings: StageBreakerSettings, now: number): string {
  const when = snapshot.openedAt === undefined ? 'opened at an unrecorded time' : `opened at ${iso(snapshot.openedAt)} (${Math.max(0, Math.round((now - snapshot.openedAt) / 1000))} s ago)`;
  if (snapshot.openReason === undefined) return `${when}; why is not recorded on this item`;
  const { openFailures, openCalls } = snapshot;
  let count = '';
  if (openFailures !== undefined && openCalls !== undefined && openCalls > 0) {
    count = `, ${openFailures} failures in ${openCalls} calls (${Math.round((openFailures / openCalls) * 100)} %)`;
  } else if (openFailures !== undefined) {
    count = `, ${openFailures} failures (threshold ${settings.failureThreshold} in ${settings.windowMs / 1000} s)`;
  }
  return `${when}: ${snapshot.openReason}${count}`;
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10} %`;
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
