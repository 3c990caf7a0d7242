import { clientConfigFor, describeSnapshot, parseBreakerCommand, UsageError } from '../../../ops/breakerCommand';
import type { CircuitSnapshot } from '../../../src/breaker';

const settings = { stage: 'dev', tableName: 'svc-dev-circuit-breakers', circuit: 'user-directory', failureThreshold: 5, windowMs: 30_000 };
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

describe('clientConfigFor', () => {
  it('uses the SDK defaults for AWS and fixed local credentials for an endpoint', () => {
    expect(clientConfigFor(parseBreakerCommand(['status']))).toEqual({});
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

  it('says when an open circuit may be probed and how often it reopened', () => {
    const text = describeSnapshot({ ...closed, state: 'OPEN', openUntil: Date.UTC(2026, 10, 29, 5, 0, 10), retryAfterMs: 9_200, reopenCount: 2 }, settings);
    expect(text).toContain('may be probed in 10 s (at 2026-11-29T05:00:10.000Z)');
    expect(text).toContain('reopened 2 time(s) from half-open');
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
});
