/**
 * A project that installed the packed breaker (see breakerPackage.test.ts): type-checked against the package's
 * declarations and run twice, compiled as ES module (consumer.mts, `import`) and as CommonJS (consumer.cts, `require`).
 * The README's "Use the breaker in your own project" shows these lines.
 */
import { CircuitBreaker, DynamoDBStateStore, withCircuitBreaker, type CallContext } from '@simple-web-service/circuit-breaker';

const endpoint = process.env.DYNAMODB_ENDPOINT; // the test's dynalite; leave unset on AWS
const circuit = process.env.CIRCUIT ?? 'prices';
const lastKnown = new Map<string, number>();
let priceServiceUp = true;

async function fetchPrice(sku: string, signal: AbortSignal): Promise<number> {
  signal.throwIfAborted();
  if (!priceServiceUp) throw new Error('price service down');
  lastKnown.set(sku, sku.length * 100);
  return sku.length * 100;
}

async function main(): Promise<void> {
  const refusals: unknown[] = [];
  const clientConfig = { endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };

  // --- README: "Use the breaker in your own project" ---
  const store = new DynamoDBStateStore({ tableName: 'CircuitBreakerState', clientConfig });
  const breaker = new CircuitBreaker({ name: circuit, store, failureThreshold: 1 });
  const getPrice = withCircuitBreaker((sku: string, { signal }: CallContext) => fetchPrice(sku, signal), {
    breaker,
    passContext: true,
    fallback: (sku, { state, retryAfterMs }) => {
      refusals.push({ state, retryAfterMs });
      return lastKnown.get(sku) ?? -1;
    },
  });
  // --- end ---

  // @ts-expect-error the fallback gets the caller's arguments (sku: string), not a number
  withCircuitBreaker(async (sku: string) => sku.length, { breaker, fallback: (sku: number) => sku });
  // @ts-expect-error the fallback may not widen the result (number) to number | undefined
  withCircuitBreaker(async (sku: string) => sku.length, { breaker, fallback: () => undefined });

  const results: unknown[] = [await getPrice('A-100')];
  priceServiceUp = false;
  results.push(await getPrice('A-100').catch((error: Error) => error.message)); // counted; opens the circuit (threshold 1)
  results.push(await getPrice('A-100')); // not called: the fallback answers from the last known price
  results.push(refusals, (await breaker.getState()).state);
  console.log(JSON.stringify(results));
  store.client.destroy();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
