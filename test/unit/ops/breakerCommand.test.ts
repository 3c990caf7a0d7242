import {
  cachedOpenNote,
  clientConfigFor,
  describeSnapshot,
  jsonForOutput,
  parseBreakerCommand,
  regionFor,
  snapshotForOutput,
  UsageError,
} from '../../../ops/breakerCommand';
import type { CircuitSnapshot } from '../../../src/breaker';

const settings = { stage: 'dev', region: 'us-east-1', tableName: 'svc-dev-circuit-breakers', circuit: 'user-directory', failureThreshold: 5, windowMs: 30_000, policy: 'count' as const };
const closed: CircuitSnapshot = {
  circuit: 'user-directory',
  state: 'CLOSED',
  failures: 2,
  retryAfterMs: 0,
  reopenCount: 0,
  trialsInFlight: 0,
  trialSuccesses: 0,
  version: 3,
  problems: [],
};

describe('parseBreakerCommand', () => {
  it('reads the action and defaults to stage dev', () => {
    expect(parseBreakerCommand(['status'])).toEqual({ action: 'status', stage: 'dev', store: 'dynamodb', json: false });
  });

  it('takes flags as --flag value and --flag=value, in any order', () => {
    expect(parseBreakerCommand(['--stage=prod', 'force-open', '--region', 'eu-west-1', '--circuit', 'payments', '--json'])).toEqual({
      action: 'force-open',
      stage: 'prod',
      region: 'eu-west-1',
      circuit: 'payments',
      store: 'dynamodb',
      json: true,
    });
    expect(parseBreakerCommand(['status', '--store', 'redis', '--endpoint', 'redis://127.0.0.1:6390'])).toMatchObject({ store: 'redis', endpoint: 'redis://127.0.0.1:6390' });
    expect(parseBreakerCommand(['reset', '--endpoint', 'http://127.0.0.1:8000']).endpoint).toBe('http://127.0.0.1:8000');
    expect(parseBreakerCommand(['force-open', '--create'])).toEqual({ action: 'force-open', stage: 'dev', store: 'dynamodb', json: false, create: true });
  });

  it.each([
    [[], /an action is needed/],
    [['open'], /unknown action "open"; expected one of status, force-open, disable, reset/],
    [['status', 'reset'], /one action at a time/],
    [['status', '--stage'], /--stage needs a value/],
    [['status', '--stage', '--json'], /--stage needs a value/],
    [['status', '--stage', 'dev/../x'], /--stage must be letters, digits and '-'/],
    [['status', '--endpoint', 'localhost:8000'], /--endpoint must be an http\(s\) URL/],
    [['status', '--force'], /unknown option "--force"/],
    [['status', '--store', 'memcached'], /--store must be dynamodb or redis, got "memcached"/],
    [['status', '--store', 'redis'], /--store redis needs --endpoint redis:\/\/host:port or rediss:\/\/host:port, got null/],
    [['status', '--store', 'redis', '--endpoint', 'http://127.0.0.1:8000'], /--store redis needs --endpoint/],
  ])('%j is refused: %s', (argv, message) => {
    expect(() => parseBreakerCommand(argv)).toThrow(UsageError);
    expect(() => parseBreakerCommand(argv)).toThrow(message);
  });
});

describe('regionFor', () => {
  const status = parseBreakerCommand(['status', '--stage', 'dev']);
  it.each([
    ['the stage region from serverless.yml when nothing else says', status, {}, 'us-east-1'],
    ['AWS_DEFAULT_REGION over the stage', status, { AWS_DEFAULT_REGION: 'eu-central-1' }, 'eu-central-1'],
    ['AWS_REGION over AWS_DEFAULT_REGION', status, { AWS_REGION: 'eu-west-2', AWS_DEFAULT_REGION: 'eu-central-1' }, 'eu-west-2'],
    ['--region over the environment', parseBreakerCommand(['status', '--region', 'ap-south-1']), { AWS_REGION: 'eu-west-2' }, 'ap-south-1'],
  ])('%s', (_label, command, env, region) => {
    expect(regionFor(command, 'us-east-1', env)).toBe(region);
    expect(clientConfigFor(command, 'us-east-1', env)).toEqual({ region });
  });
});

describe('clientConfigFor', () => {
  it('uses the SDK defaults for AWS and fixed local credentials for an endpoint', () => {
    expect(clientConfigFor(parseBreakerCommand(['status']), undefined, {})).toEqual({});
    expect(clientConfigFor(parseBreakerCommand(['status', '--region', 'eu-west-1']))).toEqual({ region: 'eu-west-1' });
    expect(clientConfigFor(parseBreakerCommand(['status', '--endpoint', 'http://127.0.0.1:9']))).toMatchObject({
      endpoint: 'http://127.0.0.1:9',
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });
});

describe('describeSnapshot', () => {
  it('says the state and the failures against the threshold', () => {
    expect(describeSnapshot(closed, settings)).toBe(
      'circuit user-directory (stage dev, table svc-dev-circuit-breakers): CLOSED\n  failures in the last 30 s: 2 of 5 that open it',
    );
  });

  const openedAt = Date.UTC(2026, 10, 29, 5, 0, 0);
  const open = { ...closed, state: 'OPEN' as const, failures: 0, openUntil: openedAt + 10_000, retryAfterMs: 7_000, reopenCount: 2 };

  it('says why and when an open circuit opened, when it is probed next and its backoff step; not the cleared count', () => {
    const text = describeSnapshot({ ...open, openedAt, openReason: 'failureThreshold', openFailures: 5 }, settings, openedAt + 3_000);
    expect(text).toBe(
      [
        'circuit user-directory (stage dev, table svc-dev-circuit-breakers): OPEN',
        '  opened at 2026-11-29T05:00:00.000Z (3 s ago): failureThreshold, 5 failures (threshold 5 in 30 s)',
        '  next probe at 2026-11-29T05:00:10.000Z (in 7 s)',
        '  backoff step 2 (reopened 2 time(s) from half-open since it last closed)',
      ].join('\n'),
    );
    expect(text).not.toContain('failures in the last 30 s: 0');
  });

  it('gives the rate that opened a circuit under the rate policy, and reads backoffStep when the breaker names it so', () => {
    const text = describeSnapshot(
      { ...open, openedAt, openReason: 'failureRate', openFailures: 12, openCalls: 40, backoffStep: 0, reopenCount: 0 },
      settings,
      openedAt,
    );
    expect(text).toContain('opened at 2026-11-29T05:00:00.000Z (0 s ago): failureRate, 12 failures in 40 calls (30 %)');
    expect(text).toContain('backoff step 0 (first open period since it last closed)');
  });

  it('rate policy: calls, failures and the rate in the window against the threshold; the ramp-up fraction while ramping', () => {
    const rateSettings = { ...settings, policy: 'rate' as const, rate: { failureRateThreshold: 0.5, minimumCalls: 20 } };
    const closedAt = openedAt;
    const text = describeSnapshot({ ...closed, failures: 3, calls: 120, failureRate: 0.025, closedAt, rampUpFraction: 0.55 }, rateSettings, closedAt + 15_000);
    expect(text).toBe(
      [
        'circuit user-directory (stage dev, table svc-dev-circuit-breakers): CLOSED',
        '  calls in the last 30 s: 120, failures: 3 (2.5 %); opens at 50 % over at least 20 calls (counts reach the item within a flush period)',
        '  ramping up: closed at 2026-11-29T05:00:00.000Z (15 s ago); admitting 55 % of calls, the rest rejected as RAMPING_UP',
      ].join('\n'),
    );
  });

  it('says so when the item does not record why it opened', () => {
    expect(describeSnapshot(open, settings, openedAt)).toContain('opened at an unrecorded time; why is not recorded on this item');
  });

  it('promises no end for a forced-open circuit, in text and in --json (retryAfterMs null, whether the breaker says 0 or null)', () => {
    expect(snapshotForOutput({ ...closed, state: 'FORCED_OPEN', retryAfterMs: 0 })).toMatchObject({ state: 'FORCED_OPEN', retryAfterMs: null });
    expect(snapshotForOutput({ ...closed, state: 'FORCED_OPEN', retryAfterMs: null })).toMatchObject({ retryAfterMs: null });
    expect(snapshotForOutput({ ...open })).toMatchObject({ retryAfterMs: 7_000 });
    expect(describeSnapshot({ ...closed, state: 'FORCED_OPEN' }, settings)).toContain('no end is scheduled');
  });

  it('names operator overrides, trials in flight, a missing item and a malformed one', () => {
    expect(describeSnapshot({ ...closed, state: 'FORCED_OPEN' }, settings)).toContain('forced open by an operator');
    expect(describeSnapshot({ ...closed, state: 'DISABLED' }, settings)).toContain('disabled by an operator');
    expect(describeSnapshot({ ...closed, state: 'HALF_OPEN', trialsInFlight: 1, trialSuccesses: 1 }, settings)).toContain(
      'trials in flight: 1, successful trials: 1',
    );
    expect(describeSnapshot({ ...closed, version: null }, settings)).toContain('no state stored yet');
    expect(describeSnapshot({ ...closed, version: null, problems: ['state "OPENED" is not a circuit state'] }, settings)).toContain(
      'the stored item is malformed (state "OPENED" is not a circuit state)',
    );
  });

  it('does not print the cleared count for an opening that was not from counts (a failed trial)', () => {
    const text = describeSnapshot({ ...open, openedAt, openReason: 'trialFailed', openFailures: 0 }, settings, openedAt + 1_000);
    expect(text).toContain('opened at 2026-11-29T05:00:00.000Z (1 s ago): trialFailed (a half-open trial call failed, so it reopened)');
    expect(text).not.toMatch(/0 failures/);
  });

  it('says "probe due now" once the open period has ended, never a past time "(in 0 s)"', () => {
    const text = describeSnapshot({ ...open, openedAt, openReason: 'failureThreshold', openFailures: 5 }, settings, openedAt + 12_000);
    expect(text).toContain('  probe due now (the open period ended at 2026-11-29T05:00:10.000Z; the next call is a trial)');
    expect(text).not.toContain('in 0 s');
    expect(text).not.toContain('next probe at');
  });

  it('says since when an operator has held the circuit forced open or disabled', () => {
    expect(describeSnapshot({ ...closed, state: 'FORCED_OPEN', updatedAt: openedAt }, settings, openedAt + 90_000)).toContain(
      '  forced open by an operator since 2026-11-29T05:00:00.000Z (90 s ago): every call is rejected',
    );
    expect(describeSnapshot({ ...closed, state: 'DISABLED', updatedAt: openedAt }, settings, openedAt + 5_000)).toContain(
      '  disabled by an operator since 2026-11-29T05:00:00.000Z (5 s ago): every call passes',
    );
  });

  it("names the stage's configured circuit when the one asked about has no state (a typo?)", () => {
    expect(describeSnapshot({ ...closed, circuit: 'user-directoy', version: null }, settings)).toContain(
      `no state stored yet (no failure recorded): closed (the stage's configured circuit is "user-directory")`,
    );
    expect(describeSnapshot({ ...closed, version: null }, settings)).not.toContain('configured circuit');
  });
});

describe('jsonForOutput', () => {
  it('carries the stage, the table and the thresholds next to the snapshot', () => {
    expect(jsonForOutput(closed, settings)).toEqual({
      ...closed,
      stage: 'dev',
      table: 'svc-dev-circuit-breakers',
      failureThreshold: 5,
      windowMs: 30_000,
    });
  });
});

describe('cachedOpenNote', () => {
  const now = Date.UTC(2026, 10, 29, 5, 0, 0);
  const wasOpen = { ...closed, state: 'OPEN' as const, failures: 0, openUntil: now + 42_000, retryAfterMs: 42_000 };

  it.each(['CLOSED', 'DISABLED'] as const)('after an override to %s of an OPEN circuit, says when containers that cached OPEN obey', (state) => {
    expect(cachedOpenNote({ previous: wasOpen, snapshot: { ...closed, state } }, now)).toBe(
      '  containers that cached OPEN obey this when their open period ends, at the latest 2026-11-29T05:00:42.000Z (in 42 s)',
    );
  });

  it('says nothing when the circuit was not open, its open period is over, or it stays rejecting (force-open)', () => {
    expect(cachedOpenNote({ previous: closed, snapshot: closed }, now)).toBeUndefined();
    expect(cachedOpenNote({ snapshot: closed }, now)).toBeUndefined();
    expect(cachedOpenNote({ previous: { ...wasOpen, openUntil: now }, snapshot: closed }, now)).toBeUndefined();
    expect(cachedOpenNote({ previous: wasOpen, snapshot: { ...closed, state: 'FORCED_OPEN', retryAfterMs: null } }, now)).toBeUndefined();
  });
});
