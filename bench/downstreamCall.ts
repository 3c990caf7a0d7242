/** The protected function of every bench scenario: one GET of a user from the directory (or the meter in front of it). */
import { CALL_ID_HEADER } from './downstreamMeter';

export class DownstreamError extends Error {
  override readonly name = 'DownstreamError';
  constructor(readonly status: number) {
    super(`the directory answered ${status}`);
  }
}

/** Resolves with the parsed body of a 2xx answer; throws DownstreamError on any other status. */
export async function fetchUser(baseUrl: string, id: string, signal?: AbortSignal, callId?: string): Promise<unknown> {
  const response = await fetch(`${baseUrl}/users/${encodeURIComponent(id)}`, {
    ...(signal ? { signal } : {}),
    ...(callId ? { headers: { [CALL_ID_HEADER]: callId } } : {}),
  });
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw new DownstreamError(response.status);
  return body;
}
