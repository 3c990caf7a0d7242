/** HTTP API (payload 2.0) events for GET /user/{id}, as API Gateway sends them. */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

let counter = 0;

export function getUserEvent(id: string | undefined, requestId = `req-${++counter}`): APIGatewayProxyEventV2 {
  const path = `/user/${id === undefined ? '' : encodeURIComponent(id)}`;
  return {
    version: '2.0',
    routeKey: 'GET /user/{id}',
    rawPath: path,
    rawQueryString: '',
    headers: { accept: 'application/json', host: 'localhost:3000' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'api-id',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId,
      routeKey: 'GET /user/{id}',
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: 1_767_225_600_000,
    },
    ...(id === undefined ? {} : { pathParameters: { id } }),
    isBase64Encoded: false,
  };
}
