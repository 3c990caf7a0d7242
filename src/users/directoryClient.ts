/**
 * The user directory (the downstream HTTP API): GET {base}/users/{id}.
 * Every answer is validated here, so a directory that answers garbage is a failed call, not a crash further in.
 */
import { parseUser, type User } from './user';

export type DirectoryAnswer = { kind: 'found'; user: User } | { kind: 'notFound' };

/** The directory gave no usable answer (5xx, 408/429, unreachable, malformed body). Counts against the breaker. */
export class DirectoryUnavailableError extends Error {
  override readonly name = 'DirectoryUnavailableError';
  constructor(
    readonly reason: 'status' | 'unreachable' | 'malformedBody',
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The directory is up but refused this one request (a 4xx other than 404, 408, 429). Does NOT count against the
 * breaker: otherwise anyone could open the circuit for everybody by sending ids the directory rejects.
 */
export class DirectoryRejectedError extends Error {
  override readonly name = 'DirectoryRejectedError';
  constructor(readonly status: number) {
    super(`user directory rejected the request with status ${status}`);
  }
}

/** The breaker's `isFailure`: every error counts except a per-request refusal by a healthy directory. */
export function countsAsDirectoryFailure(error: unknown): boolean {
  return !(error instanceof DirectoryRejectedError);
}

export interface DirectoryClient {
  getUser(id: string, signal: AbortSignal): Promise<DirectoryAnswer>;
}

export interface DirectoryClientOptions {
  /** e.g. http://127.0.0.1:4010 (no trailing slash). */
  baseUrl: string;
  /** A user is a few hundred bytes; anything far bigger is not a user. */
  maxBodyBytes?: number;
  fetch?: typeof fetch;
}

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

export function createDirectoryClient(options: DirectoryClientOptions): DirectoryClient {
  const fetchImpl = options.fetch ?? fetch;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  return {
    async getUser(id, signal) {
      const url = `${options.baseUrl}/users/${encodeURIComponent(id)}`;
      let response: Response;
      try {
        // redirect 'error': the directory's answer is the answer; never follow it somewhere else.
        response = await fetchImpl(url, { signal, redirect: 'error', headers: { accept: 'application/json' } });
      } catch (error) {
        if (signal.aborted) throw error; // the breaker's timeout: it knows what that means
        throw new DirectoryUnavailableError('unreachable', `user directory unreachable: ${describe(error)}`, undefined, { cause: error });
      }

      if (response.status === 404) {
        await discard(response);
        return { kind: 'notFound' };
      }
      if (response.status !== 200) {
        await discard(response);
        if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
          throw new DirectoryRejectedError(response.status);
        }
        throw new DirectoryUnavailableError('status', `user directory answered status ${response.status}`, response.status);
      }

      const contentType = response.headers.get('content-type') ?? '';
      if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType)) {
        await discard(response);
        throw malformed(`content-type is "${contentType}", not JSON`);
      }
      const text = await readCapped(response, maxBodyBytes);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw malformed('body is not valid JSON');
      }
      const user = parseUser(body);
      if (!user.ok) throw malformed(user.problem);
      if (user.value.id !== id) throw malformed(`asked for id "${id}", got a user with id "${user.value.id}"`);
      return { kind: 'found', user: user.value };
    },
  };
}

function malformed(problem: string): DirectoryUnavailableError {
  return new DirectoryUnavailableError('malformedBody', `user directory answered a malformed body: ${problem}`);
}

/** Reads the body, giving up (and closing the stream) past `maxBytes`. */
async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await discard(response);
    throw malformed(`body of ${declared} bytes exceeds ${maxBytes}`);
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw malformed(`body exceeds ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Frees the connection for reuse without reading a body we do not need. */
async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

function describe(error: unknown): string {
  // Duck-typed: fetch's errors may come from another realm (Jest's sandbox), where instanceof Error fails.
  const { message, cause } = (error ?? {}) as { message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const text = typeof message === 'string' ? message : String(error);
  const detail = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : undefined;
  return detail ? `${text} (${detail})` : text;
}
