/** The user as this service serves it, and the validation applied to every copy that comes from outside. */
import { checkUserId } from './userId';

export interface User {
  id: string;
  name: string;
  email: string;
}

/** The last good copy kept in the Users table: the user plus when the directory answered (epoch ms). */
export interface CachedUser extends User {
  fetchedAt: number;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

const MAX_NAME_LENGTH = 256;
const MAX_EMAIL_LENGTH = 320;
// Deliberately loose: one '@', something either side, no whitespace. The directory owns the real rule.
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/**
 * Validates a user that came from outside (the directory's body). Unknown fields are dropped, so nothing the
 * directory adds later leaks to callers.
 */
export function parseUser(input: unknown): Parsed<User> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, problem: 'user must be a JSON object' };
  }
  const record = input as Record<string, unknown>;
  const id = checkUserId(record.id);
  if (!id.ok) return { ok: false, problem: `"id": ${id.problem}` };
  const { name, email } = record;
  if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_NAME_LENGTH) {
    return { ok: false, problem: `"name" must be a non-empty string of at most ${MAX_NAME_LENGTH} characters` };
  }
  if (typeof email !== 'string' || email.length > MAX_EMAIL_LENGTH || !EMAIL.test(email)) {
    return { ok: false, problem: `"email" must be an email address of at most ${MAX_EMAIL_LENGTH} characters` };
  }
  return { ok: true, value: { id: id.id, name, email } };
}

/** Validates an item read from the Users table. */
export function parseCachedUser(input: unknown): Parsed<CachedUser> {
  const user = parseUser(input);
  if (!user.ok) return user;
  const { fetchedAt } = input as Record<string, unknown>;
  if (typeof fetchedAt !== 'number' || !Number.isSafeInteger(fetchedAt) || fetchedAt <= 0) {
    return { ok: false, problem: '"fetchedAt" must be a positive whole number of epoch milliseconds' };
  }
  return { ok: true, value: { ...user.value, fetchedAt } };
}

/** The fields a caller sees, in a fixed order. */
export function toPublicUser(user: User): User {
  return { id: user.id, name: user.name, email: user.email };
}
