import { parseCachedUser, parseUser, toPublicUser } from '../../../src/users/user';

const ada = { id: 'demo-1', name: 'Ada Lovelace', email: 'ada@example.com' };

describe('parseUser', () => {
  it('accepts a user and drops fields it does not know', () => {
    expect(parseUser({ ...ada, internalRole: 'admin' })).toEqual({ ok: true, value: ada });
  });

  it.each([
    ['null', null, /JSON object/],
    ['an array', [ada], /JSON object/],
    ['a string', 'ada', /JSON object/],
    ['no id', { name: ada.name, email: ada.email }, /"id": user id is missing/],
    ['a numeric id', { ...ada, id: 42 }, /"id": user id must be a string/],
    ['an id with a slash', { ...ada, id: 'a/b' }, /"id"/],
    ['no name', { id: ada.id, email: ada.email }, /"name"/],
    ['a blank name', { ...ada, name: '  ' }, /"name"/],
    ['a huge name', { ...ada, name: 'n'.repeat(257) }, /"name"/],
    ['no email', { id: ada.id, name: ada.name }, /"email"/],
    ['an email without @', { ...ada, email: 'ada.example.com' }, /"email"/],
    ['an email with spaces', { ...ada, email: 'ada @example.com' }, /"email"/],
  ])('rejects %s', (_label, input, problem) => {
    const result = parseUser(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toMatch(problem);
  });
});

describe('parseCachedUser', () => {
  it('accepts an item with fetchedAt', () => {
    expect(parseCachedUser({ ...ada, fetchedAt: 1_700_000_000_000 })).toEqual({ ok: true, value: { ...ada, fetchedAt: 1_700_000_000_000 } });
  });

  it.each([
    ['missing', undefined],
    ['a string', '1700000000000'],
    ['zero', 0],
    ['fractional', 1.5],
    ['negative', -5],
  ])('rejects fetchedAt %s', (_label, fetchedAt) => {
    const result = parseCachedUser({ ...ada, fetchedAt });
    expect(result).toEqual({ ok: false, problem: expect.stringMatching(/"fetchedAt"/) });
  });

  it('rejects an item that is not a valid user', () => {
    expect(parseCachedUser({ id: 'demo-1', fetchedAt: 1 }).ok).toBe(false);
  });
});

describe('toPublicUser', () => {
  it('keeps only id, name and email', () => {
    expect(toPublicUser({ ...ada, fetchedAt: 5 } as typeof ada)).toEqual(ada);
  });
});
