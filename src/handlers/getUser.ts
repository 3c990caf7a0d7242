// Placeholder so the service packages while GetUser is being built; replaced by the real adapter.
import type { APIGatewayProxyResultV2 } from 'aws-lambda';

export const handler = async (): Promise<APIGatewayProxyResultV2> => ({
  statusCode: 501,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ error: { code: 'NOT_IMPLEMENTED', message: 'GetUser is not built yet' } }),
});
