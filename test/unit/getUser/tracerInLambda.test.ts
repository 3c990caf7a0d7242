/**
 * Tracing as it runs inside Lambda: a real X-Ray SDK sending to a UDP "daemon" on 127.0.0.1.
 * The environment must be set before the X-Ray SDK loads, so this file imports the tracer lazily.
 */
import { createSocket, type Socket } from 'node:dgram';

const TRACE_ID = '1-5759e988-bd862e3fe1be46a994272793';
const PARENT_ID = '53995c3f42cd8ad8';

describe('tracing inside Lambda', () => {
  let daemon: Socket;
  const documents: Record<string, unknown>[] = [];
  let onDocument: () => void = () => undefined;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    daemon = createSocket('udp4');
    daemon.on('message', (message) => {
      // Each datagram is a header line then one JSON document.
      const [, body] = message.toString('utf8').split('\n');
      documents.push(JSON.parse(body) as Record<string, unknown>);
      onDocument();
    });
    await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
    Object.assign(process.env, {
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      LAMBDA_TASK_ROOT: '/var/task',
      AWS_LAMBDA_FUNCTION_NAME: 'GetUser',
      _X_AMZN_TRACE_ID: `Root=${TRACE_ID};Parent=${PARENT_ID};Sampled=1`,
      AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}`,
    });
    delete process.env.AWS_XRAY_CONTEXT_MISSING;
  });

  afterAll(() => {
    process.env = savedEnv;
    daemon.close();
  });

  it('puts the directory call in its own subsegment of the invocation, with the breaker annotations', async () => {
    const sent = new Promise<void>((resolve) => (onDocument = resolve));
    const { createTracing } = await import('../../../src/observability/tracer');
    const tracing = createTracing('simple-web-service');
    expect(tracing.enabled).toBe(true);

    const value = await tracing.inSubsegment('user-directory', async (span) => {
      span.annotate('breaker_state', 'OPEN');
      span.annotate('breaker_outcome', 'rejected');
      span.recordError(new Error('circuit open'));
      return 'answer';
    });
    await sent;

    expect(value).toBe('answer');
    expect(documents).toEqual([
      expect.objectContaining({
        type: 'subsegment',
        name: 'user-directory',
        trace_id: TRACE_ID,
        parent_id: PARENT_ID,
        annotations: { breaker_state: 'OPEN', breaker_outcome: 'rejected' },
        fault: true,
      }),
    ]);
  });
});
