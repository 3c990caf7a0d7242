/** The rule for a user id, checked at the edge before anything reaches the directory or DynamoDB. */

export const USER_ID_MAX_LENGTH = 128;
const ALLOWED = /^[A-Za-z0-9._@-]+$/;
const ALLOWED_DESCRIPTION = "letters, digits, '-', '_', '.' and '@'";

export type UserIdCheck = { ok: true; id: string } | { ok: false; problem: string };

/** Accepts 1 to 128 ASCII letters, digits, `-`, `_`, `.`, `@`; anything else comes back with the problem named. */
export function checkUserId(input: unknown): UserIdCheck {
  if (input === undefined || input === null || input === '') return { ok: false, problem: 'user id is missing' };
  if (typeof input !== 'string') return { ok: false, problem: 'user id must be a string' };
  if (input.length > USER_ID_MAX_LENGTH) {
    return { ok: false, problem: `user id must be at most ${USER_ID_MAX_LENGTH} characters long, got ${input.length}` };
  }
  if (!ALLOWED.test(input)) {
    const characters = [...input];
    const index = characters.findIndex((character) => !ALLOWED.test(character));
    return { ok: false, problem: `user id may contain only ${ALLOWED_DESCRIPTION}; character ${index + 1} (${nameOf(characters[index])}) is not allowed` };
  }
  // "." and ".." are dot segments: a URL parser would resolve /users/.. to the directory's root.
  if (input === '.' || input === '..') return { ok: false, problem: 'user id must not be "." or ".."' };
  return { ok: true, id: input };
}

/**
 * `'é', U+00E9`: the character itself where it is visible, always its code point. Control and format characters,
 * lone surrogates and line/paragraph separators get only the code point (they would garble the message).
 */
function nameOf(character: string): string {
  const codePoint = `U+${(character.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`;
  return /^[\p{C}\p{Zl}\p{Zp}]$/u.test(character) ? codePoint : `'${character}', ${codePoint}`;
}
