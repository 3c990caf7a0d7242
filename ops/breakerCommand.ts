/**
 * `npm run breaker -- <action>`: see and steer a stage's circuit during an incident. Every action goes through the
 * breaker library, so an override is the same conditional write the service itself would make, and every container
 * obeys it once its cached state expires (an OPEN state is cached until its open period ends).
 */
import { DynamoDBClient, GetItemCommand, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { CircuitBreaker, DynamoDBStateStore, type CircuitSnapshot, type StateStore } from '../src/breaker';
import type { StageBreakerSettings } from './stageBreakerSettings';

export const ACTIONS = ['status', 'force-open', 'disable', 'reset'] as const;
export type BreakerAction = (typeof ACTIONS)[number];

export interface BreakerCommand {
  action: BreakerAction;
  stage: string;
  /** The circuit's name; default: the stage's breakerName param. */
  circuit?: string;
  region?: string;
  /** Where the state lives (serverless.yml's breakerStore). Default dynamodb. */
  store: 'dynamodb' | 'redis';
  /**
   * dynamodb: a local DynamoDB endpoint (npm start prints dynalite's); absent: AWS, with the SDK's usual credentials.
   * redis (required): the server's URL, redis:// or rediss:// (npm start --store redis prints it).
   */
  endpoint?: string;
  json: boolean;
  /** force-open/disable may create the item of a circuit that has no stored state (otherwise refused: a typo?). */
  create?: boolean;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** force-open or disable on a circuit with no stored state, without --create (exit 2, like bad usage). */
export class NoStoredStateError extends UsageError {}

export const USAGE = `usage: npm run breaker -- <${ACTIONS.join('|')}> [--stage dev] [--store dynamodb|redis] [--region us-east-1] [--endpoint URL] [--circuit NAME] [--create] [--json]

  status      the shared state: state, failures (and, rate policy, calls and the failure rate) in the window, the
              ramp-up fraction after a close, when it may next be probed, trials in flight
  force-open  reject every call on every container until reset
  disable     let every call through (failures still counted) until reset
  reset       closed, counts cleared, backoff reset

force-open and disable refuse a circuit with no stored state (a mistyped --circuit would otherwise create an item
that never expires) unless --create is given.

--endpoint points at a local DynamoDB (npm start prints it); without it the command talks to AWS with your credentials
(it needs dynamodb:GetItem, dynamodb:UpdateItem and dynamodb:PutItem on the stage's circuit-breakers table), in the region given by
--region, else AWS_REGION or AWS_DEFAULT_REGION, else the stage's region in serverless.yml.
--store redis (the stage's breakerStore=redis) needs --endpoint redis://host:port or rediss://host:port: the cache's
URL (from inside its VPC), or the local server npm start --store redis prints.`;

const VALUE_FLAGS = ['--stage', '--store', '--region', '--endpoint', '--circuit'] as const;

export function parseBreakerCommand(argv: readonly string[]): BreakerCommand {
  const values: Partial<Record<(typeof VALUE_FLAGS)[number], string>> = {};
  let action: BreakerAction | undefined;
  let json = false;
  let create = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') ? (arg.split(/=(.*)/s, 2) as [string, string | undefined]) : [arg, undefined];
    if (flag === '--json') {
      json = true;
    } else if (flag === '--create') {
      create = true;
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
  const store = values['--store'] ?? 'dynamodb';
  if (store !== 'dynamodb' && store !== 'redis') throw new UsageError(`--store must be dynamodb or redis, got "${store}"`);
  if (store === 'dynamodb' && values['--endpoint'] !== undefined && !/^https?:\/\/[^\s/]+/.test(values['--endpoint'])) {
    throw new UsageError(`--endpoint must be an http(s) URL, got "${values['--endpoint']}"`);
  }
  if (store === 'redis' && !/^rediss?:\/\/[^\s/]+/.test(values['--endpoint'] ?? '')) {
    throw new UsageError(`--store redis needs --endpoint redis://host:port or rediss://host:port, got ${JSON.stringify(values['--endpoint'] ?? null)}`);
  }
  return {
    action,
    stage,
    store,
    json,
    ...(create ? { create } : {}),
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

/** What one command did: the state after it and, for an override, the state before it. */
export interface BreakerCommandResult {
  snapshot: OperatorSnapshot;
  /** The state the override replaced (force-open, disable, reset). */
  previous?: CircuitSnapshot;
}

/** `storeOrClient`: the DynamoDB client for the stage's table, or a ready store (e.g. a RedisStateStore). */
export async function executeBreakerCommand(
  command: BreakerCommand,
  settings: StageBreakerSettings,
  storeOrClient: DynamoDBClient | StateStore,
  now: () => number = Date.now,
): Promise<BreakerCommandResult> {
  const circuit = command.circuit ?? settings.circuit;
  const client = storeOrClient instanceof DynamoDBClient ? storeOrClient : undefined;
  const breaker = new CircuitBreaker({
    name: circuit,
    store: client ? new DynamoDBStateStore({ tableName: settings.tableName, client }) : (storeOrClient as StateStore),
    windowMs: settings.windowMs,
    // The stage's policy, so `status` reads the counts as the service does (calls and rate, ramp-up fraction).
    ...(settings.rate ? settings.rate : { failureThreshold: settings.failureThreshold }),
    ...settings.rampUp,
    // An operator at a terminal can wait longer for an answer than a request can.
    storeTimeoutMs: 5_000,
    storeMaxAttempts: 3,
    now,
  });
  if (command.action === 'status') return { snapshot: await withUpdatedAt(await breaker.getState(), settings, client) };
  const previous = await breaker.getState();
  if ((command.action === 'force-open' || command.action === 'disable') && previous.version === null && previous.problems.length === 0 && !command.create) {
    throw new NoStoredStateError(
      `circuit "${circuit}" has no stored state in ${client ? `table ${settings.tableName}` : 'the store'}; the stage ${settings.stage} circuit is "${settings.circuit}". ` +
        `Check --circuit, or add --create to ${command.action} a circuit nothing has used yet (its item never expires).`,
    );
  }
  const after = command.action === 'force-open' ? await breaker.forceOpen() : command.action === 'disable' ? await breaker.disable() : await breaker.reset();
  return { snapshot: await withUpdatedAt(after, settings, client), previous };
}

/** The state after the command (see executeBreakerCommand). */
export async function runBreakerCommand(
  command: BreakerCommand,
  settings: StageBreakerSettings,
  storeOrClient: DynamoDBClient | StateStore,
  now: () => number = Date.now,
): Promise<OperatorSnapshot> {
  return (await executeBreakerCommand(command, settings, storeOrClient, now)).snapshot;
}

/**
 * An operator's override has no timer, so "since when" is the item's last write (`updatedAt`, which the library keeps
 * but does not report); read for FORCED_OPEN and DISABLED only. A missing or malformed value is left out.
 */
async function withUpdatedAt(snapshot: CircuitSnapshot, settings: StageBreakerSettings, client: DynamoDBClient | undefined): Promise<OperatorSnapshot> {
  const shown = snapshotForOutput(snapshot);
  // Only the DynamoDB table is read directly; on another store "since when" is left out.
  if (client === undefined || (snapshot.state !== 'FORCED_OPEN' && snapshot.state !== 'DISABLED')) return shown;
  const { Item } = await client.send(
    new GetItemCommand({
      TableName: settings.tableName,
      Key: { id: { S: snapshot.circuit } },
      ProjectionExpression: '#updatedAt',
      ExpressionAttributeNames: { '#updatedAt': 'updatedAt' },
      ConsistentRead: true,
    }),
  );
  const updatedAt = Number(Item?.updatedAt?.N);
  return Number.isSafeInteger(updatedAt) && updatedAt > 0 ? { ...shown, updatedAt } : shown;
}

/**
 * What an operator must know after an override replaced an OPEN state: containers that cached it keep rejecting
 * until its open period ends (they do not read the store while they know the circuit is open). Undefined otherwise.
 */
export function cachedOpenNote(result: BreakerCommandResult, now: number = Date.now()): string | undefined {
  const { previous, snapshot } = result;
  if (previous?.state !== 'OPEN' || previous.openUntil === undefined || previous.openUntil <= now) return undefined;
  if (snapshot.state === 'OPEN' || snapshot.state === 'FORCED_OPEN') return undefined;
  const seconds = Math.ceil((previous.openUntil - now) / 1000);
  return `  containers that cached OPEN obey this when their open period ends, at the latest ${iso(previous.openUntil)} (in ${seconds} s)`;
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
  /** The item's last write, epoch ms (shown as "since" for FORCED_OPEN and DISABLED). */
  updatedAt?: number;
};

/** What `--json` prints: the snapshot, where it lives, and the settings that give its counts their meaning. */
export type OperatorJson = OperatorSnapshot & { stage: string; table: string; failureThreshold: number; windowMs: number };

/** The snapshot with no end promised for a circuit an operator holds open. */
export function snapshotForOutput(snapshot: CircuitSnapshot | OperatorSnapshot): OperatorSnapshot {
  return { ...snapshot, retryAfterMs: snapshot.state === 'FORCED_OPEN' ? null : snapshot.retryAfterMs };
}

/** What `--json` prints (snapshotForOutput plus the stage, its table and its thresholds). */
export function jsonForOutput(snapshot: CircuitSnapshot | OperatorSnapshot, settings: StageBreakerSettings): OperatorJson {
  return {
    stage: settings.stage,
    table: settings.tableName,
    failureThreshold: settings.failureThreshold,
    windowMs: settings.windowMs,
    ...snapshotForOutput(snapshot),
  };
}

/**
 * One human-readable paragraph for a terminal. `now` (epoch ms) gives "ago" and "in" their meaning; `where` names the
 * store as the operator named it (default: the stage's table).
 */
export function describeSnapshot(
  given: CircuitSnapshot | OperatorSnapshot,
  settings: StageBreakerSettings,
  now: number = Date.now(),
  where = `table ${settings.tableName}`,
): string {
  const snapshot = snapshotForOutput(given);
  const lines = [`circuit ${snapshot.circuit} (stage ${settings.stage}, ${where}): ${snapshot.state}`];
  const backoffStep = snapshot.backoffStep ?? snapshot.reopenCount;
  if (snapshot.state === 'OPEN') {
    // The counts were cleared when it opened: what matters now is why and when it opened, and when it is probed.
    lines.push(`  ${openingOf(snapshot, settings, now)}`);
    if (snapshot.openUntil !== undefined) {
      lines.push(
        snapshot.openUntil <= now
          ? `  probe due now (the open period ended at ${iso(snapshot.openUntil)}; the next call is a trial)`
          : `  next probe at ${iso(snapshot.openUntil)} (in ${Math.ceil((snapshot.openUntil - now) / 1000)} s)`,
      );
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
  const since = snapshot.updatedAt === undefined ? '' : ` since ${iso(snapshot.updatedAt)} (${ago(snapshot.updatedAt, now)} s ago)`;
  if (snapshot.state === 'FORCED_OPEN') lines.push(`  forced open by an operator${since}: every call is rejected until \`reset\` (no end is scheduled)`);
  if (snapshot.state === 'DISABLED') lines.push(`  disabled by an operator${since}: every call passes (failures still counted) until \`reset\``);
  if (snapshot.version === null && snapshot.problems.length === 0) {
    const configured = snapshot.circuit === settings.circuit ? '' : ` (the stage's configured circuit is "${settings.circuit}")`;
    lines.push(`  no state stored yet (no failure recorded): closed${configured}`);
  }
  if (snapshot.problems.length > 0) lines.push(`  the stored item is malformed (${snapshot.problems.join('; ')}); treated as closed until the next write repairs it`);
  return lines.join('\n');
}

/** "opened at <time> (<n> s ago): <reason>, <what crossed the threshold>". */
function openingOf(snapshot: OperatorSnapshot, settings: StageBreakerSettings, now: number): string {
  const when = snapshot.openedAt === undefined ? 'opened at an unrecorded time' : `opened at ${iso(snapshot.openedAt)} (${ago(snapshot.openedAt, now)} s ago)`;
  if (snapshot.openReason === undefined) return `${when}; why is not recorded on this item`;
  // Only an opening from counts has counts worth printing; a failed trial's "0 failures" would mislead.
  if (!COUNT_REASONS.has(snapshot.openReason)) return `${when}: ${snapshot.openReason}${REASON_TEXT[snapshot.openReason] ?? ''}`;
  const { openFailures, openCalls } = snapshot;
  let count = '';
  if (openFailures !== undefined && openCalls !== undefined && openCalls > 0) {
    count = `, ${openFailures} failures in ${openCalls} calls (${Math.round((openFailures / openCalls) * 100)} %)`;
  } else if (openFailures !== undefined) {
    count = `, ${openFailures} failures (threshold ${settings.failureThreshold} in ${settings.windowMs / 1000} s)`;
  }
  return `${when}: ${snapshot.openReason}${count}`;
}

/** Opening reasons that come from the failure counts (the others, e.g. trialFailed, have none to show). */
const COUNT_REASONS: ReadonlySet<string> = new Set(['failureThreshold', 'failureRate']);
const REASON_TEXT: Readonly<Record<string, string>> = { trialFailed: ' (a half-open trial call failed, so it reopened)' };

function ago(epochMs: number, now: number): number {
  return Math.max(0, Math.round((now - epochMs) / 1000));
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10} %`;
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
