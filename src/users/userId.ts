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
    const position = [...input].findIndex((character) => !ALLOWED.test(character)) + 1;
    return { ok: false, problem: `user id may contain only ${ALLOWED_DESCRIPTION}; character ${position} is not allowed` };
  }
  // "." and ".." are dot segments: a URL parser would resolve /users/.. to the directory's root.
  if (input === '.' || input === '..') return { ok: false, problem: 'user id must not be "." or ".."' };
  return { ok: true, id: input };
}
