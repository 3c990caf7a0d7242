/**
 * The GetUser use case: the directory through the breaker, the Users table as the fallback.
 * Knows nothing of Lambda or HTTP; the handler maps its result to a response.
 */
import { performance } from 'node:perf_hooks';
import { CircuitOpenError, type CallDetails, type CallOutcome, type ExecuteOptions } from '../breaker';
import { errorSummary } from '../observability/logger';
import type { Tracing } from '../observability/tracer';
import { DirectoryRejectedError, InvalidDirectoryRecordError, type DirectoryClient } from './directoryClient';
import { toPublicUser, type User } from './user';
import type { UsersRepository } from './usersRepository';

/** What the use case needs of the breaker. */
export interface ProtectedCaller {
  execute<T>(fn: (signal: AbortSignal) => Promise<T>, options?: ExecuteOptions): Promise<T>;
}

/** How the directory call went, for the request's log line. */
export interface CallReport {
  circuit: string;
  outcome: CallOutcome;
  state?: string;
  latencyMs: number;
  error?: { name: string; message: string };
  /** Set when the directory answered an invalid record for this user (not counted by the breaker): the problem. */
  invalidRecord?: string;
}

/**
 * When the caller may try again. `retryAfterMs` is null when an operator holds the circuit open (FORCED_OPEN):
 * nothing ends that, so no time is promised.
 */
export interface RetryHint {
  retryAfterMs: number | null;
  heldOpenByOperator: boolean;
}

export type GetUserResult =
  | { kind: 'fresh'; user: User; call: CallReport }
  | { kind: 'cached'; user: User; fetchedAt: number; ageSeconds: number; call: CallReport }
  | { kind: 'notFound'; call: CallReport }
  /** The directory's record for this user fails validation and no cached copy could be served. */
  | { kind: 'invalidRecord'; problem: string; call: CallReport }
  /**
   * The directory refused this one request (a 4xx other than 404, 408, 429; not counted by the breaker) and no cached
   * copy could be served. Not an outage: retrying soon would get the same refusal.
   */
  | { kind: 'rejected'; status: number; call: CallReport }
  /** The directory gave no answer and the Users table holds no copy of this user. */
  | ({ kind: 'unavailable'; call: CallReport } & RetryHint)
  /** The directory gave no answer and the cached copy could not be read (table failed, or item malformed). */
  | ({ kind: 'cacheUnavailable'; call: CallReport } & RetryHint);

/** `signal`: the request's own deadline (e.g. from the Lambda context's remaining time); aborting it cancels the directory call. */
export type GetUser = (id: string, options?: { signal?: AbortSignal }) => Promise<GetUserResult>;

export interface GetUserDependencies {
  circuit: string;
  breaker: ProtectedCaller;
  directory: DirectoryClient;
  users: UsersRepository;
  tracing: Tracing;
  now: () => number;
}

/**
 * When a call failed without opening the circuit, there is no open period to point at: the next request may well
 * succeed, so callers are told to come back soon.
 */
export const FAILED_CALL_RETRY_AFTER_MS = 1000;

/** `id` must already be valid (see checkUserId). */
export function createGetUser(deps: GetUserDependencies): GetUser {
  const { circuit, breaker, directory, users, tracing, now } = deps;

  return async (id, options = {}) => {
    // Before the directory is asked: a 404 deletes only copies fetched before this moment.
    const requestStartedAt = now();
    const call = await tracing.inSubsegment('user-directory', async (span) => {
      let details: CallDetails | undefined;
      const started = performance.now();
      let settled: { ok: true; value: Awaited<ReturnType<DirectoryClient['getUser']>> } | { ok: false; error: unknown };
      try {
        const value = await breaker.execute((signal) => directory.getUser(id, signal), {
          ...(options.signal ? { signal: options.signal } : {}),
          onSettled: (reported) => (details = reported),
        });
        settled = { ok: true, value };
      } catch (error) {
        settled = { ok: false, error };
      }
      // The breaker reports every call it ran or refused; only an error before it (a bug) leaves no report.
      const outcome: CallOutcome = details?.outcome ?? 'failure';
      span.annotate('circuit', circuit);
      span.annotate('breaker_state', details?.state ?? 'unknown');
      span.annotate('breaker_outcome', outcome);
      if (!settled.ok) span.recordError(settled.error);
      return { settled, outcome, state: details?.state, openUntil: details?.openUntil, latencyMs: Math.round(performance.now() - started) };
    });
    const report: CallReport = {
      circuit,
      outcome: call.outcome,
      ...(call.state === undefined ? {} : { state: call.state }),
      latencyMs: call.latencyMs,
      ...(call.settled.ok ? {} : { error: errorSummary(call.settled.error) }),
      ...(!call.settled.ok && call.settled.error instanceof InvalidDirectoryRecordError ? { invalidRecord: call.settled.error.problem } : {}),
    };

    if (call.settled.ok) {
      const answer = call.settled.value;
      // The directory is the authority: a user it no longer knows is gone, and so is our copy of that personal data
      // (otherwise the next outage would serve a deleted user from the table).
      if (answer.kind === 'notFound') {
        await users.remove(id, requestStartedAt);
        return { kind: 'notFound', call: report };
      }
      await users.save({ ...answer.user, fetchedAt: now() });
      return { kind: 'fresh', user: answer.user, call: report };
    }

    // Open circuit, failed call, or an ignored one (the directory refused this request, or its record for this user
    // is invalid): the copy we hold is still the best answer.
    const cached = await users.find(id);
    if (cached.kind === 'found') {
      const ageSeconds = Math.max(0, Math.floor((now() - cached.user.fetchedAt) / 1000));
      return { kind: 'cached', user: toPublicUser(cached.user), fetchedAt: cached.user.fetchedAt, ageSeconds, call: report };
    }
    const { error } = call.settled;
    if (error instanceof InvalidDirectoryRecordError) return { kind: 'invalidRecord', problem: error.problem, call: report };
    if (error instanceof DirectoryRejectedError) return { kind: 'rejected', status: error.status, call: report };
    const hint = retryHint(error, call.openUntil, now());
    return cached.kind === 'absent' ? { kind: 'unavailable', ...hint, call: report } : { kind: 'cacheUnavailable', ...hint, call: report };
  };
}

function retryHint(error: unknown, openUntil: number | undefined, now: number): RetryHint {
  if (error instanceof CircuitOpenError) {
    // An operator's force-open has no end (its retryAfterMs is null, or 0 from older breakers): promise none.
    if (error.state === 'FORCED_OPEN') return { retryAfterMs: null, heldOpenByOperator: true };
    return { retryAfterMs: error.retryAfterMs ?? FAILED_CALL_RETRY_AFTER_MS, heldOpenByOperator: false };
  }
  // This very call's failure opened the circuit: nothing will be tried before the open period ends.
  if (openUntil !== undefined) return { retryAfterMs: Math.max(0, openUntil - now), heldOpenByOperator: false };
  return { retryAfterMs: FAILED_CALL_RETRY_AFTER_MS, heldOpenByOperator: false };
}
