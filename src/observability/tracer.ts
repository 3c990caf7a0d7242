/**
 * X-Ray tracing through Powertools for AWS Lambda's Tracer (a wrapper of aws-xray-sdk-core).
 * Active only inside a real Lambda; in tests, serverless-offline and local runs it is off and silent.
 */
import { Tracer } from '@aws-lambda-powertools/tracer';

/** One subsegment, as the code that opened it sees it. */
export interface Span {
  /** X-Ray annotation (indexed, searchable). Keys: letters, digits, underscore. */
  annotate(key: string, value: string | number | boolean): void;
  recordError(error: unknown): void;
}

export interface Tracing {
  readonly enabled: boolean;
  /** Wraps an AWS SDK v3 client so each call gets a subsegment (a no-op when tracing is off). */
  captureAWSv3Client<Client>(client: Client): Client;
  /** Runs `fn` inside a new subsegment of the current trace; calls made in `fn` nest under it. */
  inSubsegment<T>(name: string, fn: (span: Span) => Promise<T>): Promise<T>;
}

const silentSpan: Span = { annotate: () => undefined, recordError: () => undefined };

/** Tracing for code that runs where there is no trace: tests of the use case, benchmarks. */
export const noTracing: Tracing = {
  enabled: false,
  captureAWSv3Client: (client) => client,
  inSubsegment: (_name, fn) => fn(silentSpan),
};

/** True in a real Lambda execution environment; false under serverless-offline, SAM local and plain Node. */
export function runsInLambda(env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(env.AWS_EXECUTION_ENV) && env.IS_OFFLINE !== 'true' && !env.AWS_SAM_LOCAL;
}

export function createTracing(serviceName: string, env: Record<string, string | undefined> = process.env): Tracing {
  const enabled = runsInLambda(env);
  // Without a trace context the X-Ray SDK logs an error for every captured call unless told to ignore it.
  if (!enabled) env.AWS_XRAY_CONTEXT_MISSING = 'IGNORE_ERROR';
  const tracer = new Tracer({ serviceName, enabled });
  if (!tracer.isTracingEnabled()) return noTracing;

  return {
    enabled: true,
    captureAWSv3Client: (client) => tracer.captureAWSv3Client(client),
    async inSubsegment(name, fn) {
      const parent = tracer.getSegment();
      if (parent === undefined) return fn(silentSpan);
      const subsegment = parent.addNewSubsegment(name);
      tracer.setSegment(subsegment);
      try {
        return await fn({
          annotate: (key, value) => subsegment.addAnnotation(key, value),
          recordError: (error) => subsegment.addError(error instanceof Error ? error : new Error(String(error))),
        });
      } catch (error) {
        subsegment.addError(error instanceof Error ? error : new Error(String(error)));
        throw error;
      } finally {
        subsegment.close();
        tracer.setSegment(parent);
      }
    },
  };
}
