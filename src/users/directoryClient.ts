/**
 * The user directory (the downstream HTTP API): GET {base}/users/{id}.
 * Every answer is validated here, so a directory that answers garbage is a failed call, not a crash further in.
 *
 * Who is at fault decides what counts against the breaker:
 *   the directory (5xx, 408, 429, unreachable, reset mid-body, not JSON, not its content type, an over-large body
 *     that is not a JSON object or array) -> DirectoryUnavailableError, counts;
 *   this one request (another 4xx) -> DirectoryRejectedError, ignored;
 *   this one record (a well-formed JSON answer whose user fails validation, whose bytes are not UTF-8, or a JSON
 *     object or array over the size cap) -> InvalidDirectoryRecordError, ignored: one bad record must not open the circuit
 *     for everybody.
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

/**
 * The directory answered well-formed JSON, in its own content type, but the record in it is not a valid user (a name
 * over 256 characters, a missing email, bytes that are not UTF-8, another user's id). A fault of that record, not of
 * the directory: it does NOT count against the breaker, otherwise one bad record would open the circuit for everybody
 * (and reopen it, with doubled backoff, after every open period).
 */
export class InvalidDirectoryRecordError extends Error {
  override readonly name = 'InvalidDirectoryRecordError';
  constructor(
    /** The user id that was asked for. */
    readonly userId: string,
    /** What is wrong with the record, e.g. `"name" must be a non-empty string of at most 256 characters`. */
    readonly problem: string,
  ) {
    super(`user directory's record for "${userId}" is invalid: ${problem}`);
  }
}

/**
 * The breaker's `isFailure`: every error counts except a per-request refusal by a healthy directory and one invalid
 * record in an otherwise well-formed answer.
 */
export function countsAsDirectoryFailure(error: unknown): boolean {
  return !(error instanceof DirectoryRejectedError || error instanceof InvalidDirectoryRecordError);
}

export interface DirectoryClient {
  getUser(id: string, signal: AbortSignal): Promise<DirectoryAnswer>;
}

export interface DirectoryClientOptions {
  /** e.g. http://127.0.0.1:4010 (no trailing slash). */
  baseUrl: string;
  /**
   * A user is a few hundred bytes; anything far bigger is not a user. A JSON object or array over the cap (in the
   * directory's JSON content type) is that record's fault (InvalidDirectoryRecordError); anything else over it counts.
   * @default 65536
   */
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
      const bytes = await readCapped(response, maxBodyBytes, signal);
      if (bytes === OVER_CAP_OBJECT) throw new InvalidDirectoryRecordError(id, `the record is over ${maxBodyBytes} bytes`);
      let text: string;
      try {
        // fatal: bytes that are not UTF-8 are refused, never stored as U+FFFD in a user's name.
        text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        throw new InvalidDirectoryRecordError(id, 'the body is not valid UTF-8');
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw malformed('body is not valid JSON');
      }
      const user = parseUser(body);
      if (!user.ok) throw new InvalidDirectoryRecordError(id, user.problem);
      if (user.value.id !== id) throw new InvalidDirectoryRecordError(id, `asked for id "${id}", got a user with id "${user.value.id}"`);
      return { kind: 'found', user: user.value };
    },
  };
}

function malformed(problem: string): DirectoryUnavailableError {
  return new DirectoryUnavailableError('malformedBody', `user directory answered a malformed body: ${problem}`);
}

/** readCapped's answer for a body over the cap that starts as a JSON object or array: one over-large record. */
const OVER_CAP_OBJECT = Symbol('over-cap JSON object');

/**
 * Reads the body, giving up (and closing the stream) past `maxBytes`: a body over the cap that starts as a JSON object
 * or array (`{` or `[` after whitespace; under the cap either is parsed and judged as a record) is one over-large
 * record (OVER_CAP_OBJECT); any other body over it (an HTML error page, text) is not the directory's answer and counts. A connection that breaks in the middle of the body (undici's bare `TypeError: terminated`)
 * is an unreachable directory.
 */
async function readCapped(response: Response, maxBytes: number, signal: AbortSignal): Promise<Uint8Array | typeof OVER_CAP_OBJECT> {
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } catch (error) {
      if (signal.aborted) throw error; // the breaker's timeout: it knows what that means
      throw new DirectoryUnavailableError('unreachable', `user directory connection broke while sending the body: ${describe(error)}`, undefined, {
        cause: error,
      });
    }
    const { done, value } = chunk;
    if (done) break;
    size += value.byteLength;
    chunks.push(value);
    // A declared length over the cap is decided on the first bytes, without reading the rest.
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (size > maxBytes || declared > maxBytes) {
      await reader.cancel().catch(() => undefined);
      if (startsAsJsonObject(Buffer.concat(chunks))) return OVER_CAP_OBJECT;
      throw malformed(`body ${declared > maxBytes ? `of ${declared} bytes ` : ''}exceeds ${maxBytes} bytes and is not a JSON object or array`);
    }
  }
  return Buffer.concat(chunks);
}

function startsAsJsonObject(bytes: Uint8Array): boolean {
  // JSON's whitespace is space, tab, LF and CR.
  const first = Buffer.from(bytes).toString('latin1').replace(/^[ \t\n\r]+/, '');
  return first.startsWith('{') || first.startsWith('[');
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
