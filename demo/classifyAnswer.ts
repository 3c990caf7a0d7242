/**
 * Sorts one answer of GET /user/{id} into the chart's kinds, by the HTTP contract:
 * 200 + x-user-source: directory = fresh, 200 + x-user-source: cache = cached, 503 = rejected, anything else
 * (another status, a 200 without a known source, no answer at all) = error.
 */
import type { AnswerKind } from './timeline';

export function classifyAnswer(status: number | undefined, userSource: string | null | undefined): AnswerKind {
  if (status === 200 && userSource === 'directory') return 'fresh';
  if (status === 200 && userSource === 'cache') return 'cached';
  if (status === 503) return 'rejected';
  return 'error';
}
