/** Stand-ins for the directory and the Users table, for handler tests that run the real use case and breaker. */
import type { DirectoryAnswer, DirectoryClient } from '../../../src/users/directoryClient';
import type { CachedUser, User } from '../../../src/users/user';
import type { UsersRepository } from '../../../src/users/usersRepository';

/** What the fake directory does next: answer, throw, or hang until the call's signal aborts. */
export type DirectoryScript = DirectoryAnswer | Error | 'hang';

export interface FakeDirectory extends DirectoryClient {
  script: DirectoryScript;
  calls: string[];
}

export function fakeDirectory(script: DirectoryScript = { kind: 'notFound' }): FakeDirectory {
  const directory: FakeDirectory = {
    script,
    calls: [],
    async getUser(id, signal) {
      directory.calls.push(id);
      const current = directory.script;
      if (current === 'hang') {
        return new Promise<never>((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
      }
      if (current instanceof Error) throw current;
      return current;
    },
  };
  return directory;
}

export function found(user: User): DirectoryAnswer {
  return { kind: 'found', user };
}

export interface FakeUsers extends UsersRepository {
  items: Map<string, CachedUser>;
  reads: string[];
  /** Every remove(id, requestStartedAt) asked for. */
  removals: Array<{ id: string; requestStartedAt: number }>;
  /** When true, every read reports the copy as unreadable (the table failed). */
  unreadable: boolean;
}

export function fakeUsers(): FakeUsers {
  const users: FakeUsers = {
    items: new Map(),
    reads: [],
    removals: [],
    unreadable: false,
    async find(id) {
      users.reads.push(id);
      if (users.unreadable) return { kind: 'unreadable', reason: 'readFailed' };
      const user = users.items.get(id);
      return user === undefined ? { kind: 'absent' } : { kind: 'found', user };
    },
    async save(user) {
      users.items.set(user.id, { ...user });
    },
    async remove(id, requestStartedAt) {
      users.removals.push({ id, requestStartedAt });
      const user = users.items.get(id);
      if (user !== undefined && user.fetchedAt < requestStartedAt) users.items.delete(id);
    },
  };
  return users;
}
