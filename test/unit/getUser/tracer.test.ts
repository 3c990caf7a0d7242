import { createTracing, noTracing, runsInLambda } from '../../../src/observability/tracer';
import { captureOutput } from '../../support/getUser/captureOutput';

describe('runsInLambda', () => {
  it.each([
    [{ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' }, true],
    [{}, false],
    [{ AWS_LAMBDA_FUNCTION_NAME: 'f', LAMBDA_TASK_ROOT: '/var/task', IS_OFFLINE: 'true' }, false],
    [{ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', IS_OFFLINE: 'true' }, false],
    [{ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', AWS_SAM_LOCAL: 'true' }, false],
  ])('%j -> %s', (env, expected) => {
    expect(runsInLambda(env)).toBe(expected);
  });
});

describe('createTracing outside Lambda', () => {
  it('is off, leaves clients untouched, runs subsegment bodies and prints nothing', async () => {
    const env: Record<string, string | undefined> = { IS_OFFLINE: 'true', AWS_LAMBDA_FUNCTION_NAME: 'f' };
    const output = captureOutput();
    try {
      const tracing = createTracing('svc', env);
      expect(tracing.enabled).toBe(false);
      expect(env.AWS_XRAY_CONTEXT_MISSING).toBe('IGNORE_ERROR');
      const client = { send: () => 1 };
      expect(tracing.captureAWSv3Client(client)).toBe(client);
      const value = await tracing.inSubsegment('x', async (span) => {
        span.annotate('k', 'v');
        span.recordError(new Error('e'));
        return 42;
      });
      expect(value).toBe(42);
    } finally {
      output.restore();
    }
    expect(output.text()).toBe('');
  });

  it('noTracing propagates errors from the body', async () => {
    await expect(noTracing.inSubsegment('x', async () => Promise.reject(new Error('body failed')))).rejects.toThrow('body failed');
  });
});
