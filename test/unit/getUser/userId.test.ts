import { checkUserId, USER_ID_MAX_LENGTH } from '../../../src/users/userId';

describe('checkUserId', () => {
  it.each([
    ['demo-1'],
    ['a'],
    ['user.name@example.com'],
    ['A_b-C.d@9'],
    ['...'],
    ['x'.repeat(USER_ID_MAX_LENGTH)],
  ])('accepts %j', (id) => {
    expect(checkUserId(id)).toEqual({ ok: true, id });
  });

  it.each([
    ['missing', undefined, /missing/],
    ['null', null, /missing/],
    ['empty', '', /missing/],
    ['not a string', 42, /must be a string/],
    ['too long', 'x'.repeat(USER_ID_MAX_LENGTH + 1), /at most 128 characters long, got 129/],
    ['a slash', 'a/b', "character 2 ('/', U+002F) is not allowed"],
    ['path traversal', '../etc/passwd', "character 3 ('/', U+002F) is not allowed"],
    ['encoded traversal', '%2e%2e%2f', "character 1 ('%', U+0025) is not allowed"],
    ['a lone dot segment', '.', /must not be "." or ".."/],
    ['a parent dot segment', '..', /must not be "." or ".."/],
    ['a space', 'a b', "character 2 (' ', U+0020) is not allowed"],
    ['a newline', 'ab\n', "character 3 (U+000A) is not allowed"],
    ['a NUL byte', 'ab\u0000', "character 3 (U+0000) is not allowed"],
    ['unicode letters', 'jos\u00e9', "character 4 ('\u00e9', U+00E9) is not allowed"],
    ['an emoji', '\u{1F600}x', "character 1 ('\u{1F600}', U+1F600) is not allowed"],
    ['a homoglyph', '\u0430dmin', "character 1 ('\u0430', U+0430) is not allowed"],
    ['SQL injection', "1' OR '1'='1", "character 2 (''', U+0027) is not allowed"],
    ['SQL comment', 'admin--;', "character 8 (';', U+003B) is not allowed"],
    ['NoSQL operator', '{"$ne":null}', "character 1 ('{', U+007B) is not allowed"],
    ['NoSQL operator key', '$where', "character 1 ('$', U+0024) is not allowed"],
    ['a query string', 'a?b=c', "character 2 ('?', U+003F) is not allowed"],
    ['a backslash', 'a\\b', "character 2 ('\\', U+005C) is not allowed"],
    ['an HTML tag', '<script>', "character 1 ('<', U+003C) is not allowed"],
  ])('rejects %s', (_label, input, problem) => {
    const result = checkUserId(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toMatch(problem);
  });
});
