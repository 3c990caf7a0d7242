/** Structured JSON logs through Powertools for AWS Lambda's Logger: one line per event. */
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevelName } from '../config';

/** What the code needs from a logger; tests can hand in anything with these methods. */
export type Log = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export function createLogger(options: { serviceName: string; logLevel: LogLevelName }): Logger {
  return new Logger({ serviceName: options.serviceName, logLevel: options.logLevel });
}

/** Enough to diagnose an error from the logs, without the SDK's request metadata. Never sent to a caller. */
export function errorSummary(error: unknown): { name: string; message: string } {
  // Duck-typed: errors from fetch may come from another realm, where instanceof Error fails.
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  return typeof message === 'string' ? { name: typeof name === 'string' ? name : 'Error', message } : { name: 'unknown', message: String(error) };
}
