/** The exported Lambda handler when the function's environment is wrong: a logged 500, never a crash or a leak. */
import { handler } from '../../../src/handlers/getUser';
import { captureOutput } from '../../support/getUser/captureOutput';
import { getUserEvent } from '../../support/getUser/events';

describe('exported handler with an invalid environment', () => {
  const saved = { ...process.env };
  afterEach(() => (process.env = { ...saved }));

  it('answers 500 with the generic error and logs which variable is wrong', async () => {
    process.env.TABLE_NAME = 'users';
    process.env.BREAKER_TABLE_NAME = 'circuit-breakers';
    process.env.POWERTOOLS_SERVICE_NAME = 'simple-web-service';
    process.env.BREAKER_NAME = 'user-directory';
    delete process.env.USER_DIRECTORY_URL;

    const output = captureOutput();
    let response;
    try {
      response = await handler(getUserEvent('demo-1', 'req-config'));
    } finally {
      output.restore();
    }
    expect(response.statusCode).toBe(500);
    expect(response.headers).toMatchObject({ 'content-type': 'application/json', 'x-request-id': 'req-config' });
    expect(JSON.parse(response.body)).toEqual({ error: { code: 'INTERNAL_ERROR', message: 'An unexpected error occurred; quote request id req-config.' } });
    expect(response.body).not.toMatch(/USER_DIRECTORY_URL/);
    // Counted with the dimensions the InternalErrorAnswers alarm reads, although the container could not be built.
    expect(output.jsonLines().find((entry) => entry._aws !== undefined)).toMatchObject({
      InternalErrorAnswers: 1,
      service: 'simple-web-service',
      circuit: 'user-directory',
    });
    expect(output.jsonLines()).toContainEqual(
      expect.objectContaining({
        message: 'request failed unexpectedly',
        requestId: 'req-config',
        error: { name: 'ConfigError', message: 'invalid configuration: USER_DIRECTORY_URL is required but not set' },
      }),
    );
  });
});
