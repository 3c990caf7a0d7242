'use strict';
/**
 * Who may call the HTTP API, from the stage's params (serverless.yml `custom.httpApiAccess` and
 * `provider.httpApi.cors`), applied when the service is packaged (so also on deploy), before the framework compiles
 * the httpApi events:
 *
 * - `authorizer: iam`  every httpApi route gets `authorizer: { type: aws_iam }` (SigV4-signed requests only);
 * - `authorizer: jwt`  an HTTP API JWT authorizer named `jwt` (Authorization: Bearer <token>) checks `jwtIssuer`
 *                      and `jwtAudience`, and every httpApi route uses it; packaging fails if either is missing;
 * - `authorizer: none` routes stay public (the dev stage, so the README's curl story works).
 *
 * CORS: an empty `allowedOrigins` list removes the CORS configuration altogether (server-to-server callers need
 * none); a `*` or anything that is not a bare http(s) origin fails packaging, so CORS always names its origins.
 * Lists may be given as YAML lists or, from the command line (--param="name=a,b"), as comma-separated strings.
 *
 * Throttle: the default route throttle set in `resources.extensions.HttpApiStage` must be numbers (a rate >= 0 per
 * second, a whole burst >= 0); numeric strings from the command line become numbers, anything else fails packaging.
 *
 * Routes that already name an authorizer keep it. serverless-offline does not package, so `npm start` stays open.
 */
const AUTHORIZERS = ['iam', 'jwt', 'none'];
const JWT_AUTHORIZER_NAME = 'jwt';

function asList(value) {
  if (value === undefined || value === null || value === '') return [];
  const items = Array.isArray(value) ? value : String(value).split(',');
  return items.map((item) => String(item).trim()).filter((item) => item !== '');
}

function isOrigin(value) {
  let url;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value && !value.includes('*');
}

function isHttpsUrl(value) {
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

class HttpApiAccess {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:initialize': () => this.apply() };
  }

  fail(message) {
    const stage = this.serverless.service.provider.stage;
    throw new this.serverless.classes.Error(`HTTP API access (stage "${stage}"): ${message}`);
  }

  apply() {
    const { service } = this.serverless;
    const settings = (service.custom && service.custom.httpApiAccess) || {};
    const httpApi = (service.provider.httpApi = service.provider.httpApi || {});
    this.applyCors(httpApi);
    this.checkThrottle(service.resources && service.resources.extensions);
    const authorizer = this.routeAuthorizer(settings, httpApi);
    if (!authorizer) return;
    for (const fn of Object.values(service.functions || {})) {
      for (const event of fn.events || []) {
        if (!event.httpApi) continue;
        if (typeof event.httpApi === 'string') {
          const [method, path] = event.httpApi.split(' ');
          event.httpApi = path === undefined ? { path: method } : { method, path };
        }
        if (!event.httpApi.authorizer) event.httpApi.authorizer = { ...authorizer };
      }
    }
  }

  /** The event-level `authorizer` every route gets, or undefined for `none`; adds the JWT authorizer if needed. */
  routeAuthorizer(settings, httpApi) {
    const choice = settings.authorizer;
    if (!AUTHORIZERS.includes(choice)) {
      this.fail(`param "authorizer" must be one of ${AUTHORIZERS.join(', ')}; got ${JSON.stringify(choice)}.`);
    }
    if (choice === 'none') return undefined;
    if (choice === 'iam') return { type: 'aws_iam' };
    const issuer = typeof settings.jwtIssuer === 'string' ? settings.jwtIssuer.trim() : '';
    const audience = asList(settings.jwtAudience);
    if (!issuer || !audience.length) {
      const missing = [!issuer && 'jwtIssuer', !audience.length && 'jwtAudience'].filter(Boolean).join(' and ');
      this.fail(
        `authorizer "jwt" needs the params jwtIssuer and jwtAudience, but ${missing} ${missing.includes(' and ') ? 'are' : 'is'} not set. ` +
          'Set them in serverless.yml params or pass --param="jwtIssuer=https://issuer.example.com/" --param="jwtAudience=my-client-id".',
      );
    }
    if (!isHttpsUrl(issuer)) this.fail(`param "jwtIssuer" must be an https:// URL (the token's "iss" claim); got ${JSON.stringify(issuer)}.`);
    httpApi.authorizers = {
      ...httpApi.authorizers,
      [JWT_AUTHORIZER_NAME]: { type: 'jwt', identitySource: '$request.header.Authorization', issuerUrl: issuer, audience },
    };
    return { name: JWT_AUTHORIZER_NAME };
  }

  checkThrottle(extensions) {
    const settings = extensions && extensions.HttpApiStage && extensions.HttpApiStage.Properties && extensions.HttpApiStage.Properties.DefaultRouteSettings;
    if (!settings) return;
    const limits = [
      ['ThrottlingRateLimit', 'throttlingRateLimit', (n) => n >= 0, 'a number of requests per second >= 0'],
      ['ThrottlingBurstLimit', 'throttlingBurstLimit', (n) => Number.isInteger(n) && n >= 0, 'a whole number of requests >= 0'],
    ];
    for (const [property, param, valid, expected] of limits) {
      if (!(property in settings)) continue;
      const raw = settings[property];
      const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      if (typeof value !== 'number' || !Number.isFinite(value) || !valid(value)) {
        this.fail(`param "${param}" must be ${expected}; got ${JSON.stringify(raw)}.`);
      }
      settings[property] = value;
    }
  }

  applyCors(httpApi) {
    const cors = httpApi.cors;
    if (!cors || cors === true) {
      if (cors === true) this.fail('provider.httpApi.cors must name its origins (allowedOrigins), not allow every origin.');
      return;
    }
    const origins = asList(cors.allowedOrigins);
    if (!origins.length) {
      delete httpApi.cors;
      return;
    }
    const bad = origins.filter((origin) => !isOrigin(origin));
    if (bad.length) {
      this.fail(`param "corsAllowedOrigins" must list origins such as https://app.example.com (no "*", no path); got ${bad.map((o) => JSON.stringify(o)).join(', ')}.`);
    }
    cors.allowedOrigins = origins;
  }
}

module.exports = HttpApiAccess;
