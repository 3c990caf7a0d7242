/** serverless-plugins/httpApiAccess.js on a service as the framework hands it over, before events are compiled. */
// The plugin is plain CommonJS, as the framework loads it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const HttpApiAccess = require('../../../serverless-plugins/httpApiAccess') as new (serverless: unknown) => {
  hooks: Record<string, () => void>;
};

class ServerlessError extends Error {}

interface Service {
  resources?: { extensions: { HttpApiStage: { Properties: { DefaultRouteSettings: Record<string, unknown> } } } };
  provider: { stage: string; httpApi: Record<string, unknown> };
  custom: { httpApiAccess: Record<string, unknown> };
  functions: Record<string, { events: Record<string, unknown>[] }>;
}

const CORS = { allowedOrigins: ['https://app.example.com'], allowedMethods: ['GET'], maxAge: 600 };

function service(access: Record<string, unknown>, cors: unknown = CORS, events: Record<string, unknown>[] = [{ httpApi: { path: '/user/{id}', method: 'get' } }]): Service {
  return {
    provider: { stage: 'test', httpApi: { payload: '2.0', cors: structuredClone(cors) } },
    custom: { httpApiAccess: access },
    functions: { GetUser: { events: structuredClone(events) } },
  };
}

function packaged(svc: Service): Service {
  new HttpApiAccess({ service: svc, classes: { Error: ServerlessError } }).hooks['before:package:initialize']();
  return svc;
}

const routeAuthorizer = (svc: Service) => (svc.functions.GetUser.events[0].httpApi as { authorizer?: unknown }).authorizer;

describe('httpApiAccess: the authorizer', () => {
  it('iam: every httpApi route requires SigV4 (aws_iam), and no authorizer resource is added', () => {
    const svc = packaged(service({ authorizer: 'iam', jwtIssuer: '', jwtAudience: [] }));
    expect(routeAuthorizer(svc)).toEqual({ type: 'aws_iam' });
    expect(svc.provider.httpApi.authorizers).toBeUndefined();
  });

  it('jwt: adds a JWT authorizer on the Authorization header with the issuer and audience, and routes use it', () => {
    const svc = packaged(service({ authorizer: 'jwt', jwtIssuer: 'https://issuer.example.com/', jwtAudience: ['web', 'cli'] }));
    expect(routeAuthorizer(svc)).toEqual({ name: 'jwt' });
    expect(svc.provider.httpApi.authorizers).toEqual({
      jwt: { type: 'jwt', identitySource: '$request.header.Authorization', issuerUrl: 'https://issuer.example.com/', audience: ['web', 'cli'] },
    });
  });

  it('jwt: takes a comma-separated audience from the command line', () => {
    const svc = packaged(service({ authorizer: 'jwt', jwtIssuer: 'https://issuer.example.com/', jwtAudience: 'web, cli' }));
    expect((svc.provider.httpApi.authorizers as { jwt: { audience: string[] } }).jwt.audience).toEqual(['web', 'cli']);
  });

  it('none: leaves routes public', () => {
    expect(routeAuthorizer(packaged(service({ authorizer: 'none' })))).toBeUndefined();
  });

  it('covers routes given as "METHOD /path" strings too, and keeps an authorizer a route names itself', () => {
    const own = { name: 'custom' };
    const svc = packaged(service({ authorizer: 'iam' }, CORS, [{ httpApi: 'GET /health' }, { httpApi: { path: '/x', method: 'get', authorizer: own } }, { schedule: 'rate(1 hour)' }]));
    expect(svc.functions.GetUser.events).toEqual([
      { httpApi: { method: 'GET', path: '/health', authorizer: { type: 'aws_iam' } } },
      { httpApi: { path: '/x', method: 'get', authorizer: own } },
      { schedule: 'rate(1 hour)' },
    ]);
  });

  it.each([
    [{ authorizer: 'jwt', jwtIssuer: '', jwtAudience: [] }, 'authorizer "jwt" needs the params jwtIssuer and jwtAudience, but jwtIssuer and jwtAudience are not set'],
    [{ authorizer: 'jwt', jwtIssuer: 'https://issuer.example.com/', jwtAudience: [] }, 'but jwtAudience is not set'],
    [{ authorizer: 'jwt', jwtIssuer: '', jwtAudience: ['web'] }, 'but jwtIssuer is not set'],
    [{ authorizer: 'jwt', jwtIssuer: 'http://issuer.example.com/', jwtAudience: ['web'] }, 'param "jwtIssuer" must be an https:// URL'],
    [{ authorizer: 'IAM' }, 'param "authorizer" must be one of iam, jwt, none; got "IAM"'],
    [{}, 'param "authorizer" must be one of iam, jwt, none; got undefined'],
  ])('refuses %j with a message naming the stage and the param', (access, message) => {
    expect(() => packaged(service(access))).toThrow(ServerlessError);
    expect(() => packaged(service(access))).toThrow(`HTTP API access (stage "test"): `);
    expect(() => packaged(service(access))).toThrow(message);
  });
});

describe('httpApiAccess: CORS', () => {
  it('keeps a configuration that names its origins', () => {
    expect(packaged(service({ authorizer: 'none' })).provider.httpApi.cors).toEqual(CORS);
  });

  it.each([[[]], [''], [undefined]])('removes CORS altogether when the origin list is empty (%j)', (origins) => {
    const svc = packaged(service({ authorizer: 'iam' }, { ...CORS, allowedOrigins: origins }));
    expect(svc.provider.httpApi).not.toHaveProperty('cors');
  });

  it('splits a comma-separated origin list from the command line', () => {
    const svc = packaged(service({ authorizer: 'iam' }, { ...CORS, allowedOrigins: 'https://a.example.com, http://localhost:3000' }));
    expect((svc.provider.httpApi.cors as typeof CORS).allowedOrigins).toEqual(['https://a.example.com', 'http://localhost:3000']);
  });

  it.each([['*'], ['https://*.example.com'], ['https://app.example.com/'], ['https://app.example.com/path'], ['app.example.com'], ['ftp://app.example.com']])(
    'refuses the origin %j',
    (origin) => {
      expect(() => packaged(service({ authorizer: 'iam' }, { ...CORS, allowedOrigins: ['https://ok.example.com', origin] }))).toThrow(
        `param "corsAllowedOrigins" must list origins such as https://app.example.com (no "*", no path); got ${JSON.stringify(origin)}`,
      );
    },
  );

  it('refuses `cors: true` (every origin)', () => {
    expect(() => packaged(service({ authorizer: 'iam' }, true))).toThrow('must name its origins');
  });
});

describe('httpApiAccess: the default route throttle', () => {
  const withThrottle = (settings: Record<string, unknown>): Service => ({
    ...service({ authorizer: 'iam' }),
    resources: { extensions: { HttpApiStage: { Properties: { DefaultRouteSettings: { DetailedMetricsEnabled: false, ...settings } } } } },
  });
  const throttle = (svc: Service) => svc.resources?.extensions.HttpApiStage.Properties.DefaultRouteSettings;

  it('keeps numbers and turns numeric strings from --param into numbers', () => {
    expect(throttle(packaged(withThrottle({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 60 })))).toEqual({ DetailedMetricsEnabled: false, ThrottlingRateLimit: 10, ThrottlingBurstLimit: 60 });
    expect(throttle(packaged(withThrottle({ ThrottlingRateLimit: '2.5', ThrottlingBurstLimit: '5' })))).toEqual({ DetailedMetricsEnabled: false, ThrottlingRateLimit: 2.5, ThrottlingBurstLimit: 5 });
  });

  it.each([
    [{ ThrottlingRateLimit: 'fast' }, 'param "throttlingRateLimit" must be a number of requests per second >= 0; got "fast"'],
    [{ ThrottlingRateLimit: -1 }, 'param "throttlingRateLimit" must be a number of requests per second >= 0; got -1'],
    [{ ThrottlingRateLimit: '' }, 'param "throttlingRateLimit" must be a number of requests per second >= 0; got ""'],
    [{ ThrottlingBurstLimit: '2.5' }, 'param "throttlingBurstLimit" must be a whole number of requests >= 0; got "2.5"'],
    [{ ThrottlingBurstLimit: null }, 'param "throttlingBurstLimit" must be a whole number of requests >= 0; got null'],
  ])('refuses %j', (settings, message) => {
    expect(() => packaged(withThrottle(settings))).toThrow(message);
  });
});
