/**
 * The GetUser use case: the directory through the breaker, the Users table as the fallback.
 * Knows nothing of Lambda or HTTP; the handler maps its result to a response.
 */
import { performance } from 'node:perf_hooks';
import { CircuitOpenError } from '../breaker/errors';
import type { ExecuteOptions } from '../breaker/CircuitBreaker';
import type { CallDetails, CallOutcome } from '../breaker/outcome';
import { errorSummary } from '../observability/logger';
import type { Tracing } from '../observability/tracer';
import type { DirectoryClient } from './directoryClient';
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
}

export type GetUserResult =
  | { kind: 'fresh'; user: User; call: CallReport }
  | { kind: 'cached'; user: User; fetchedAt: number; ageSeconds: number; call: CallReport }
  | { kind: 'notFound'; call: CallReport }
  /** retryAfterMs is null when the circuit was forced open: an operator decides when it ends. */
  | { kind: 'unavailable'; retryAfterMs: number | null; call: CallReport };

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
    };

    if (call.settled.ok) {
      const answer = call.settled.value;
      // The directory is the authority: a user it no longer knows is gone, whatever copy the table still holds.
      if (answer.kind === 'notFound') return { kind: 'notFound', call: report };
      await users.save({ ...answer.user, fetchedAt: now() });
      return { kind: 'fresh', user: answer.user, call: report };
    }

    // Open circuit or failed call (an ignored one too: the directory refused this request but our copy is good).
    const cached = await users.find(id);
    if (cached !== undefined) {
      const ageSeconds = Math.max(0, Math.floor((now() - cached.fetchedAt) / 1000));
      return { kind: 'cached', user: toPublicUser(cached), fetchedAt: cached.fetchedAt, ageSeconds, call: report };
    }
    return { kind: 'unavailable', retryAfterMs: retryAfterMs(call.settled.error, call.openUntil, now()), call: report };
  };
}

function retryAfterMs(error: unknown, openUntil: number | undefined, now: number): number | null {
  if (error instanceof CircuitOpenError) return error.retryAfterMs;
  // This very call's failure opened the circuit: nothing will be tried before the open period ends.
  if (openUntil !== undefined) return Math.max(0, openUntil - now);
  return FAILED_CALL_RETRY_AFTER_MS;
}
