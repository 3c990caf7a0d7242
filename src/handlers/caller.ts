/**
 * Who called, as API Gateway's authorizer proved it: the only source of identity the handler trusts.
 * Headers such as `x-user` or `x-caller` are chosen by the caller and are never read.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/** `iam`: the SigV4 signer's IAM ARN; `jwt`: the token's `sub` claim; `none`: no authorizer ran (dev, local). */
export type Caller = { authorizer: 'iam' | 'jwt'; principal: string } | { authorizer: 'none' };

interface AuthorizerContext {
  iam?: { userArn?: unknown };
  jwt?: { claims?: { sub?: unknown } };
}

/**
 * Reads the principal from `event.requestContext.authorizer` (payload 2.0) and nowhere else.
 *
 * @example
 * callerOf(event) // { authorizer: 'iam', principal: 'arn:aws:iam::123456789012:user/reporting' }
 */
export function callerOf(event: APIGatewayProxyEventV2): Caller {
  const context = (event.requestContext as { authorizer?: AuthorizerContext } | undefined)?.authorizer;
  const arn = context?.iam?.userArn;
  if (typeof arn === 'string' && arn !== '') return { authorizer: 'iam', principal: arn };
  const sub = context?.jwt?.claims?.sub;
  if (typeof sub === 'string' && sub !== '') return { authorizer: 'jwt', principal: sub };
  return { authorizer: 'none' };
}
