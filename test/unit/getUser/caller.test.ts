/**
 * The handler logs who called only from what API Gateway's authorizer put in requestContext.authorizer;
 * identity headers a caller can set themselves are ignored.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { callerOf } from '../../../src/handlers/caller';
import { createHandler } from '../../../src/handlers/getUser';
import { createMetrics } from '../../../src/observability/metrics';
import type { GetUserResult } from '../../../src/users/getUser';
import { captureOutput, type CapturedOutput } from '../../support/getUser/captureOutput';
import { getUserEvent } from '../../support/getUser/events';

const ROLE_ARN = 'arn:aws:sts::123456789012:assumed-role/reporting/session';
/** Headers a caller could send to claim an identity; none of them may reach the log. */
const FORGED = { 'x-user': 'admin', 'x-caller': 'arn:aws:iam::999999999999:root', 'x-amzn-oidc-identity': 'admin', 'x-forwarded-user': 'admin' };

function withAuthorizer(authorizer: unknown, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  const event = getUserEvent('demo-1', 'req-caller');
  return { ...event, headers: { ...event.headers, ...headers }, requestContext: { ...event.requestContext, authorizer } as APIGatewayProxyEventV2['requestContext'] };
}

const iamContext = {
  iam: { accessKey: 'ASIAEXAMPLE', accountId: '123456789012', callerId: 'AROAEXAMPLE:session', cognitoIdentity: null, principalOrgId: 'o-example', userArn: ROLE_ARN, userId: 'AROAEXAMPLE:session' },
};
const jwtContext = { jwt: { claims: { sub: 'user-42', iss: 'https://issuer.example.com', aud: 'simple-web-service' }, scopes: null } };

describe('callerOf', () => {
  it.each([
    ['an IAM authorizer context', withAuthorizer(iamContext), { authorizer: 'iam', principal: ROLE_ARN }],
    ['a JWT authorizer context', withAuthorizer(jwtContext), { authorizer: 'jwt', principal: 'user-42' }],
    ['no authorizer context', getUserEvent('demo-1'), { authorizer: 'none' }],
    ['no authorizer context and forged identity headers', withAuthorizer(undefined, FORGED), { authorizer: 'none' }],
    ['an IAM context with a non-string ARN', withAuthorizer({ iam: { userArn: 42 } }), { authorizer: 'none' }],
    ['a JWT context without sub', withAuthorizer({ jwt: { claims: { iss: 'x' }, scopes: null } }), { authorizer: 'none' }],
  ])('reads %s', (_name, event, expected) => {
    expect(callerOf(event)).toEqual(expected);
  });
});

describe('GET /user/{id} logs the caller', () => {
  let output: CapturedOutput;
  beforeEach(() => (output = captureOutput()));
  afterEach(() => output.restore());

  const notFound: GetUserResult = {
    kind: 'notFound',
    call: { circuit: 'user-directory', state: 'CLOSED', outcome: 'success', latencyMs: 1 },
  };
  const handler = createHandler(() => ({
    getUser: () => Promise.resolve(notFound),
    logger: new Logger({ serviceName: 'test', logLevel: 'INFO' }),
    metrics: createMetrics({ serviceName: 'test', circuit: 'user-directory' }),
  }));
  const completed = () => output.jsonLines().filter((line) => line.message === 'request completed');

  it('as the IAM principal from requestContext.authorizer, not the forged x-user/x-caller headers', async () => {
    await handler(withAuthorizer(iamContext, FORGED));
    expect(completed()).toEqual([expect.objectContaining({ requestId: 'req-caller', caller: { authorizer: 'iam', principal: ROLE_ARN } })]);
    for (const forged of Object.values(FORGED)) expect(output.text()).not.toContain(forged);
  });

  it("as the JWT's sub claim", async () => {
    await handler(withAuthorizer(jwtContext, FORGED));
    expect(completed()).toEqual([expect.objectContaining({ caller: { authorizer: 'jwt', principal: 'user-42' } })]);
  });

  it('as nobody when no authorizer ran, however the headers claim otherwise', async () => {
    await handler(withAuthorizer(undefined, FORGED));
    expect(completed()).toEqual([expect.objectContaining({ caller: { authorizer: 'none' } })]);
    for (const forged of Object.values(FORGED)) expect(output.text()).not.toContain(forged);
  });
});
