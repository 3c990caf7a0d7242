import { createStateChangeReader, parseStateChange, type StateChange } from '../../../demo/stateChangeLog';

// A line as the GetUser handler writes it through serverless-offline (Powertools logger, trimmed).
const line = (fields: Record<string, unknown>): string =>
  JSON.stringify({ level: 'WARN', message: 'circuit state changed', timestamp: '2026-01-01T00:00:00.000Z', service: 'simple-web-service', circuit: 'user-directory', from: 'CLOSED', state: 'OPEN', reason: 'failureThreshold', at: 1_000, ...fields });

describe('parseStateChange', () => {
  it('reads from, to, reason and time from a state-change log line', () => {
    expect(parseStateChange(line({}))).toEqual({ circuit: 'user-directory', from: 'CLOSED', to: 'OPEN', reason: 'failureThreshold', at: 1_000 });
  });

  it('ignores every other line', () => {
    expect(parseStateChange('GET /user/demo-1 (λ: GetUser)')).toBeUndefined();
    expect(parseStateChange(JSON.stringify({ message: 'request completed', from: 'CLOSED', state: 'OPEN', at: 1 }))).toBeUndefined();
    expect(parseStateChange('circuit state changed, but not JSON')).toBeUndefined();
    expect(parseStateChange(line({ at: 'yesterday' }))).toBeUndefined();
  });
});

describe('createStateChangeReader', () => {
  it('finds the changes of one circuit in output that arrives in arbitrary chunks', () => {
    const changes: StateChange[] = [];
    const reader = createStateChangeReader('user-directory', (change) => changes.push(change));
    const output = [
      'offline: GET /user/demo-1',
      line({ at: 1 }),
      line({ circuit: 'another', at: 2 }),
      line({ from: 'OPEN', state: 'HALF_OPEN', reason: 'openPeriodElapsed', at: 3 }),
      '',
    ].join('\n');
    for (let i = 0; i < output.length; i += 7) reader.write(output.slice(i, i + 7));

    expect(changes.map((change) => `${change.from}>${change.to}@${change.at}`)).toEqual(['CLOSED>OPEN@1', 'OPEN>HALF_OPEN@3']);
  });

  it('waits for the end of a line before reading it', () => {
    const changes: StateChange[] = [];
    const reader = createStateChangeReader('user-directory', (change) => changes.push(change));
    reader.write(line({}));
    expect(changes).toEqual([]);
    reader.write('\n');
    expect(changes).toHaveLength(1);
  });
});
