/** The HTTP contract of GET /user/{id}: every response is JSON, errors have one shape, every response names its request. */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { User } from '../users/user';

export type HttpResponse = APIGatewayProxyStructuredResultV2 & { statusCode: number; headers: Record<string, string>; body: string };

export type ErrorCode =
  | 'INVALID_REQUEST'
  | 'INVALID_USER_ID'
  | 'USER_NOT_FOUND'
  | 'INVALID_DIRECTORY_RECORD'
  | 'DIRECTORY_REJECTED'
  | 'DIRECTORY_UNAVAILABLE'
  | 'CACHE_UNAVAILABLE'
  | 'INTERNAL_ERROR';

function json(statusCode: number, body: unknown, requestId: string, headers: Record<string, string> = {}): HttpResponse {
  return {
    statusCode,
    headers: {
      'content-type': 'application/json',
      // Answers change with the directory and the breaker; intermediaries must not keep them.
      'cache-control': 'no-store',
      'x-request-id': requestId,
      ...headers,
    },
    body: JSON.stringify(body),
  };
}

export function errorResponse(
  statusCode: number,
  code: ErrorCode,
  message: string,
  requestId: string,
  headers: Record<string, string> = {},
): HttpResponse {
  return json(statusCode, { error: { code, message } }, requestId, headers);
}

export function freshUserResponse(user: User, requestId: string): HttpResponse {
  return json(200, user, requestId, { 'x-user-source': 'directory' });
}

export function cachedUserResponse(user: User, ageSeconds: number, requestId: string): HttpResponse {
  return json(200, user, requestId, { 'x-user-source': 'cache', age: String(ageSeconds) });
}

/** Whole seconds, rounded up, at least 1: a client told "0" would come straight back. */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}
