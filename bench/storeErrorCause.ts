/** Which store error a breaker's `storeError` event carries, as one short name for tables. */

/**
 * The name of the store's own error behind a StateStoreError (ProvisionedThroughputExceededException,
 * StoreTimeoutError, ECONNRESET, ...), or "cooldown (store not asked)" when the breaker skipped the store because it
 * failed moments ago.
 */
export function storeErrorCause(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  if (!(cause instanceof Error)) return error.name;
  if (cause.message.includes('not asked again yet')) return 'cooldown (store not asked)';
  if (cause.name !== 'Error' && cause.name !== 'TypeError') return cause.name;
  const code = (cause as { code?: unknown }).code;
  return typeof code === 'string' ? code : `${cause.name}: ${cause.message.slice(0, 40)}`;
}
