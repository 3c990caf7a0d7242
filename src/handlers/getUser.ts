/**
 * GET /user/{id} (HTTP API, payload 2.0): a thin adapter. Validate the id, run the use case, map its result
 * to the HTTP contract. The dependencies live once per container (see container.ts).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { errorSummary } from '../observability/logger';
import { recordInternalError, recordRequest, type RequestMetrics } from '../observability/metrics';
import type { GetUser, GetUserResult } from '../users/getUser';
import { checkUserId } from '../users/userId';
import { callerOf } from './caller';
import { getContainer, fallbackLogger, fallbackMetrics } from './container';
import {
  cachedUserResponse,
  errorResponse,
  freshUserResponse,
  retryAfterSeconds,
  type HttpResponse,
} from './httpResponses';

export interface HandlerDependencies {
  getUser: GetUser;
  logger: Logger;
  metrics: RequestMetrics;
}

export type GetUserHandler = (event: APIGatewayProxyEventV2, context?: Context) => Promise<HttpResponse>;

/**
 * `dependencies` is called on every request but is expected to return the same container-scoped objects;
 * if it throws (bad configuration), the request gets a 500, the reason goes to the log (`logOnFailure`) and
 * InternalErrorAnswers is counted (`metricsOnFailure`).
 */
export function createHandler(
  dependencies: () => HandlerDependencies,
  logOnFailure: Logger = fallbackLogger,
  metricsOnFailure: () => RequestMetrics = fallbackMetrics,
): GetUserHandler {
  return async (untrustedEvent, context) => {
    const started = performance.now();
    // A direct invocation may send anything (null, a string): only an object can be an HTTP API event.
    const isObject = typeof untrustedEvent === 'object' && untrustedEvent !== null && !Array.isArray(untrustedEvent);
    const event: APIGatewayProxyEventV2 = isObject ? untrustedEvent : ({} as APIGatewayProxyEventV2);
    // Lambda's request id: unique everywhere (serverless-offline gives every event the same requestContext.requestId)
    // and the id on Lambda's own START/END/REPORT lines. API Gateway's id is logged next to it.
    const requestId = context?.awsRequestId || event.requestContext?.requestId || randomUUID();
    let logger = logOnFailure;
    let metrics: RequestMetrics | undefined;
    try {
      const deps = dependencies();
      logger = deps.logger;
      metrics = deps.metrics;
      if (context) logger.addContext(context);
      logger.appendKeys({ requestId, apiRequestId: event.requestContext?.requestId, caller: callerOf(event) });

      if (!isObject) {
        const got = untrustedEvent === null ? 'null' : Array.isArray(untrustedEvent) ? 'an array' : `a ${typeof untrustedEvent}`;
        const problem = `the event must be an API Gateway HTTP API (payload 2.0) request object, got ${got}`;
        logger.info('request rejected', { status: 400, problem, durationMs: elapsed(started) });
        return errorResponse(400, 'INVALID_REQUEST', `Invalid request: ${problem}.`, requestId);
      }

      const id = checkUserId(event.pathParameters?.id);
      if (!id.ok) {
        logger.info('request rejected', { status: 400, problem: id.problem, durationMs: elapsed(started) });
        return errorResponse(400, 'INVALID_USER_ID', id.problem, requestId);
      }
      const result = await deps.getUser(id.id, callDeadline(context));
      const response = toResponse(result, id.id, requestId);
      recordRequest(deps.metrics, result);
      deps.metrics.publishStoredMetrics();
      logger.info('request completed', {
        status: response.statusCode,
        userId: id.id,
        result: result.kind,
        ...('ageSeconds' in result ? { ageSeconds: result.ageSeconds } : {}),
        circuit: result.call.circuit,
        state: result.call.state,
        outcome: result.call.outcome,
        latencyMs: result.call.latencyMs,
        ...(result.call.error ? { callError: result.call.error } : {}),
        durationMs: elapsed(started),
      });
      return response;
    } catch (error) {
      logger.error('request failed unexpectedly', { requestId, status: 500, error: errorSummary(error), stack: (error as Error)?.stack });
      try {
        const failureMetrics = metrics ?? metricsOnFailure();
        recordInternalError(failureMetrics);
        failureMetrics.publishStoredMetrics();
      } catch (metricsError) {
        logger.error('could not record the 500 answer', { requestId, error: errorSummary(metricsError) });
      }
      return errorResponse(500, 'INTERNAL_ERROR', `An unexpected error occurred; quote request id ${requestId}.`, requestId);
    } finally {
      logger.resetKeys();
    }
  };
}

function toResponse(result: GetUserResult, id: string, requestId: string): HttpResponse {
  switch (result.kind) {
    case 'fresh':
      return freshUserResponse(result.user, requestId);
    case 'cached':
      return cachedUserResponse(result.user, result.ageSeconds, requestId);
    case 'notFound':
      return errorResponse(404, 'USER_NOT_FOUND', `No user with id "${id}".`, requestId);
    case 'invalidRecord':
      return errorResponse(
        502,
        'INVALID_DIRECTORY_RECORD',
        `The user directory's record for "${id}" is invalid (${result.problem}) and no cached copy could be served.`,
        requestId,
      );
    case 'rejected':
      return errorResponse(
        502,
        'DIRECTORY_REJECTED',
        `The user directory refused the request for "${id}" with status ${result.status} and no cached copy could be served; retrying will not help until the directory's answer changes.`,
        requestId,
      );
    case 'unavailable':
    case 'cacheUnavailable':
      return unavailableResponse(result, requestId);
  }
}

/**
 * 503. The message says only what the service knows: whether the table holds no copy or the copy could not be read,
 * and when to retry, or that an operator holds the circuit open (then no retry-after: nothing ends it on a timer).
 */
function unavailableResponse(result: Extract<GetUserResult, { kind: 'unavailable' | 'cacheUnavailable' }>, requestId: string): HttpResponse {
  const directory = result.heldOpenByOperator ? "The user directory's circuit is held open by an operator" : 'The user directory is unavailable';
  const copy = result.kind === 'unavailable' ? 'no cached copy of this user exists' : 'the cached copy could not be read';
  const code = result.kind === 'unavailable' ? 'DIRECTORY_UNAVAILABLE' : 'CACHE_UNAVAILABLE';
  if (result.retryAfterMs === null) {
    return errorResponse(503, code, `${directory} and ${copy}; it stays open until an operator resets it, so no retry time can be given.`, requestId);
  }
  const seconds = retryAfterSeconds(result.retryAfterMs);
  return errorResponse(503, code, `${directory} and ${copy}; retry in ${seconds} s.`, requestId, { 'retry-after': String(seconds) });
}

/**
 * Time kept back from the directory call for what follows it: the breaker's outcome write, the Users table, the
 * response. The call is cancelled (counting neither way) when the function would otherwise be killed mid-call.
 */
export const RESPONSE_RESERVE_MS = 1500;

/** The directory call's deadline from the function's remaining time; none outside Lambda (no context). */
function callDeadline(context: Context | undefined): { signal?: AbortSignal } {
  const remaining = context?.getRemainingTimeInMillis?.();
  if (typeof remaining !== 'number' || !Number.isFinite(remaining)) return {};
  return { signal: AbortSignal.timeout(Math.max(1, remaining - RESPONSE_RESERVE_MS)) };
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}

export const handler: GetUserHandler = createHandler(getContainer);
