import { parseItem, UNREADABLE } from '../../../src/breaker/state';

describe('parseItem', () => {
  test('a missing item is closed, version null, no problems', () => {
    expect(parseItem('c', undefined)).toMatchObject({ state: 'CLOSED', version: null, problems: [] });
  });

  test('a well-formed half-open item', () => {
    const record = parseItem('c', {
      id: 'c',
      state: 'HALF_OPEN',
      version: 7,
      backoffStep: 2,
      trialSuccesses: 1,
      p_1: { exp: 500, tok: 'b' },
      p_0: { exp: 400, tok: 'a' },
      f_1000: 3,
      unrelated: 'kept out of the record',
    });
    expect(record).toMatchObject({ state: 'HALF_OPEN', version: 7, backoffStep: 2, trialSuccesses: 1, counters: { f_1000: 3 }, problems: [] });
    expect(record.permits).toEqual([
      { slot: 0, token: 'a', expiresAt: 400 },
      { slot: 1, token: 'b', expiresAt: 500 },
    ]);
    expect(record.slotAndCounterNames.sort()).toEqual(['f_1000', 'p_0', 'p_1']);
  });

  test.each<[string, Record<string, unknown>, string]>([
    ['no version', { state: 'OPEN', openUntil: 5 }, 'version is missing'],
    ['negative version', { state: 'CLOSED', version: -1 }, 'version is not a non-negative integer'],
    ['unknown state', { state: 'open', version: 1 }, 'state "open" is not a circuit state'],
    ['OPEN without openUntil', { state: 'OPEN', version: 1 }, 'state OPEN without openUntil'],
    ['bad permit', { state: 'HALF_OPEN', version: 1, p_0: { exp: 'soon' } }, 'p_0 is not a permit lease'],
    ['bad counter', { state: 'CLOSED', version: 1, f_5: -2 }, 'f_5 is not a count'],
    ['bad backoffStep', { state: 'CLOSED', version: 1, backoffStep: 'x' }, 'backoffStep is not a non-negative integer'],
    ['undecodable value', { state: UNREADABLE, version: 1 }, 'state (unreadable) is not a circuit state'],
  ])('%s: treated as closed with the problem named', (_label, item, problem) => {
    const record = parseItem('c', item);
    expect(record.state).toBe('CLOSED');
    expect(record.permits).toEqual([]);
    expect(record.openUntil).toBeUndefined();
    expect(record.problems).toContain(problem);
  });
});
