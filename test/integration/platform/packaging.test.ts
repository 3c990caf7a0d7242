/**
 * Packages the service for dev and prod exactly as CI and a deploy do (`sls package`), with no AWS credentials
 * and an empty HOME, and checks the CloudFormation that would be deployed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../../src/config';
import { zipEntries } from './zipEntries';

const PROJECT_ROOT = path.join(__dirname, '..', '..', '..');
const STAGES = ['dev', 'prod'] as const;
type Stage = (typeof STAGES)[number];

interface Packaged {
  output: string;
  directory: string;
  template: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  state: { service: { provider: { stackName: string } } };
}

interface Statement {
  Effect: string;
  Action: string[];
  Resource: unknown;
}

const workRoot = mkdtempSync(path.join(os.tmpdir(), 'sls-package-'));
const packaged = {} as Record<Stage, Packaged>;
/** dev with --param="breakerStore=redis" (the breaker's state in ElastiCache; GetUser in the VPC). */
let redisVariant: Packaged;

async function packageStage(stage: Stage, variant: string = stage, params: string[] = []): Promise<Packaged> {
  const directory = path.join(workRoot, variant);
  const home = path.join(workRoot, `home-${variant}`);
  // Only what a machine with no AWS account has: no AWS_* variables, a HOME without ~/.aws.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    [require.resolve('serverless/bin/serverless.js'), 'package', '--stage', stage, '--package', directory, ...params.map((param) => `--param=${param}`)],
    {
      cwd: PROJECT_ROOT,
      env: { ...env, HOME: home, ESBUILD_WORK_FOLDER: path.join('.esbuild', `package-test-${process.pid}-${variant}`) },
      maxBuffer: 10 * 1024 * 1024,
    },
  );
  const read = (file: string): unknown => JSON.parse(readFileSync(path.join(directory, file), 'utf8'));
  return {
    output: stdout + stderr,
    directory,
    template: read('cloudformation-template-update-stack.json') as Packaged['template'],
    state: read('serverless-state.json') as Packaged['state'],
  };
}

beforeAll(async () => {
  // One after the other: serverless-esbuild passes each zip through the project's own .serverless/ folder,
  // which two packaging runs at once would share.
  for (const stage of STAGES) packaged[stage] = await packageStage(stage);
  redisVariant = await packageStage('dev', 'dev-redis', ['breakerStore=redis']);
}, 180_000);

afterAll(() => {
  rmSync(workRoot, { recursive: true, force: true });
  for (const variant of [...STAGES, 'dev-redis']) rmSync(path.join(PROJECT_ROOT, '.esbuild', `package-test-${process.pid}-${variant}`), { recursive: true, force: true });
});

const resource = (stage: Stage, logicalId: string) => {
  const found = packaged[stage].template.Resources[logicalId];
  if (!found) throw new Error(`the ${stage} template has no ${logicalId}`);
  return found.Properties;
};
const getAtt = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
const roleStatements = (stage: Stage): Statement[] => {
  const policies = resource(stage, 'GetUserIamRoleLambdaExecution').Policies as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((policy) => policy.PolicyDocument.Statement);
};

describe.each(STAGES)('the %s package', (stage) => {
  it('is built with no configuration warnings', () => {
    expect(packaged[stage].output).toContain(`Packaging simple-web-service for stage ${stage}`);
    expect(packaged[stage].output).not.toMatch(/warning/i);
  });

  it('holds GetUser bundled into one JavaScript file with its source map', () => {
    const entries = zipEntries(path.join(packaged[stage].directory, 'GetUser.zip'));
    expect(entries.sort()).toEqual(['src/handlers/getUser.js', 'src/handlers/getUser.js.map']);
  });

  it('runs GetUser on nodejs22.x with X-Ray tracing, 1024 MB and 6 s, behind GET /user/{id} (payload 2.0)', () => {
    const fn = resource(stage, 'GetUserLambdaFunction');
    expect(fn).toMatchObject({
      Handler: 'src/handlers/getUser.handler',
      Runtime: 'nodejs22.x',
      MemorySize: 1024,
      Timeout: 6,
      TracingConfig: { Mode: 'Active' },
      Role: getAtt('GetUserIamRoleLambdaExecution'),
    });
    expect(resource(stage, 'HttpApiRouteGetUserIdVar').RouteKey).toBe('GET /user/{id}');
    expect(resource(stage, 'HttpApiIntegrationGetUser').PayloadFormatVersion).toBe('2.0');
    expect(resource(stage, 'HttpApi').CorsConfiguration).toBeDefined();
  });

  it('tells GetUser its tables and settings as plain strings, with no local-only endpoint', () => {
    const { Variables } = resource(stage, 'GetUserLambdaFunction').Environment as { Variables: Record<string, unknown> };
    expect(Variables).toMatchObject({
      TABLE_NAME: resource(stage, 'Users').TableName,
      TABLE_ARN: getAtt('Users'),
      BREAKER_TABLE_NAME: resource(stage, 'CircuitBreakers').TableName,
      USER_DIRECTORY_URL: expect.stringMatching(/^https:\/\//),
      BREAKER_NAME: 'user-directory',
      POWERTOOLS_SERVICE_NAME: 'simple-web-service',
    });
    for (const [name, value] of Object.entries(Variables)) {
      if (name !== 'TABLE_ARN') expect([name, typeof value]).toEqual([name, 'string']);
    }
    expect(Variables).not.toHaveProperty('DYNAMODB_ENDPOINT');
  });

  it("sets an environment the function's own config parser accepts (types, ranges, the 6 s time budget)", () => {
    const { Variables } = resource(stage, 'GetUserLambdaFunction').Environment as { Variables: Record<string, unknown> };
    const env = { ...Variables, TABLE_ARN: `arn:aws:dynamodb:us-east-1:123456789012:table/${String(Variables.TABLE_NAME)}` } as Record<string, string>;
    expect(loadConfig(env)).toMatchObject({
      usersTableName: `simple-web-service-${stage}-users`,
      breakerStore: { kind: 'dynamodb', tableName: `simple-web-service-${stage}-circuit-breakers` },
    });
  });

  it('has the DynamoDB store (the default breakerStore): no VPC, no cache', () => {
    expect(Object.keys(packaged[stage].template.Resources).filter((id) => !/^GetUserLambdaVersion/.test(id)).sort()).toEqual(DYNAMODB_STACK);
    expect(resource(stage, 'GetUserLambdaFunction').VpcConfig).toBeUndefined();
    expect(resource(stage, 'GetUserIamRoleLambdaExecution').ManagedPolicyArns).toEqual([]);
  });

  it('keeps users and breaker state in two on-demand tables keyed by id', () => {
    for (const table of ['Users', 'CircuitBreakers']) {
      expect(resource(stage, table)).toMatchObject({
        TableName: `simple-web-service-${stage}-${table === 'Users' ? 'users' : 'circuit-breakers'}`,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      });
    }
    expect(resource(stage, 'Users').StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
  });

  describe("GetUser's own role", () => {
    it('is named per stage and is the role of every function in the stack', () => {
      expect(resource(stage, 'GetUserIamRoleLambdaExecution').RoleName).toBe(`simple-web-service-${stage}-getuser-role`);
      const functions = Object.values(packaged[stage].template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
      expect(functions.map((fn) => fn.Properties.Role)).toEqual([getAtt('GetUserIamRoleLambdaExecution')]);
      // The framework's default role would be assumed by nobody (serverless-plugins/dropUnusedDefaultRole.js).
      const roles = Object.entries(packaged[stage].template.Resources).filter(([, r]) => r.Type === 'AWS::IAM::Role');
      expect(roles.map(([logicalId]) => logicalId)).toEqual(['GetUserIamRoleLambdaExecution']);
    });

    it('grants exactly the DynamoDB actions the code performs, on exactly the two tables', () => {
      const dynamodb = roleStatements(stage).filter((statement) => statement.Action.some((action) => action.startsWith('dynamodb:')));
      expect(dynamodb).toEqual([
        { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: getAtt('Users') },
        { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: getAtt('CircuitBreakers') },
      ]);
    });

    it('grants "*" only for the X-Ray actions, and nothing beyond logs, DynamoDB and X-Ray', () => {
      const statements = roleStatements(stage);
      expect(statements.every((statement) => statement.Effect === 'Allow')).toBe(true);
      const wildcard = statements.filter((statement) => [statement.Resource].flat().includes('*'));
      expect(wildcard).toEqual([{ Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' }]);
      const actions = statements.flatMap((statement) => statement.Action);
      expect(actions.filter((action) => !/^(logs|dynamodb|xray):/.test(action))).toEqual([]);
      expect(actions.filter((action) => action.includes('*'))).toEqual([]);
      // Logs go to GetUser's own log group only.
      const logs = statements.filter((statement) => statement.Action.some((action) => action.startsWith('logs:')));
      expect(JSON.stringify(logs.map((statement) => statement.Resource))).toContain(`log-group:/aws/lambda/simple-web-service-${stage}-GetUser:`);
    });
  });
});

const COMMON_STACK = [
  'GetUserIamRoleLambdaExecution',
  'GetUserLambdaFunction',
  'GetUserLambdaPermissionHttpApi',
  'GetUserLogGroup',
  'HttpApi',
  'HttpApiIntegrationGetUser',
  'HttpApiRouteGetUserIdVar',
  'HttpApiStage',
  'ServerlessDeploymentBucket',
  'ServerlessDeploymentBucketPolicy',
  'Users',
];
const DYNAMODB_STACK = [...COMMON_STACK, 'CircuitBreakers'].sort();
const REDIS_STACK = [...COMMON_STACK, 'BreakerCache', 'BreakerCacheSecurityGroup', 'BreakerClientSecurityGroup', 'DynamoDBEndpoint'].sort();

describe('dev with breakerStore=redis', () => {
  const redisResource = (logicalId: string) => {
    const found = redisVariant.template.Resources[logicalId];
    if (!found) throw new Error(`the redis template has no ${logicalId}`);
    return found.Properties;
  };
  const ref = (logicalId: string) => ({ Ref: logicalId });

  it('packages with no warnings, GetUser still one bundled file', () => {
    expect(redisVariant.output).toContain('Packaging simple-web-service for stage dev');
    expect(redisVariant.output).not.toMatch(/warning/i);
    expect(zipEntries(path.join(redisVariant.directory, 'GetUser.zip')).sort()).toEqual(['src/handlers/getUser.js', 'src/handlers/getUser.js.map']);
  });

  it('has an ElastiCache Serverless Valkey cache, two security groups and a DynamoDB gateway endpoint instead of the breaker table', () => {
    expect(Object.keys(redisVariant.template.Resources).filter((id) => !/^GetUserLambdaVersion/.test(id)).sort()).toEqual(REDIS_STACK);
    expect(redisVariant.template).not.toHaveProperty('Conditions');
    expect(redisResource('BreakerCache')).toMatchObject({ Engine: 'valkey', ServerlessCacheName: 'simple-web-service-dev-breaker', SecurityGroupIds: [ref('BreakerCacheSecurityGroup')] });
    expect(redisResource('DynamoDBEndpoint')).toMatchObject({ VpcEndpointType: 'Gateway', VpcId: 'vpc-0123456789abcdef0' });
  });

  it('lets only GetUser reach the cache, on port 6379', () => {
    expect(redisResource('BreakerCacheSecurityGroup').SecurityGroupIngress).toEqual([
      { IpProtocol: 'tcp', FromPort: 6379, ToPort: 6379, SourceSecurityGroupId: ref('BreakerClientSecurityGroup'), Description: expect.any(String) },
    ]);
    expect(redisResource('BreakerClientSecurityGroup').SecurityGroupIngress).toBeUndefined();
    expect(redisResource('GetUserLambdaFunction').VpcConfig).toEqual({
      SecurityGroupIds: [ref('BreakerClientSecurityGroup')],
      SubnetIds: { 'Fn::Split': [',', 'subnet-0123456789abcdef0,subnet-0123456789abcdef1'] },
    });
  });

  it('tells GetUser the store and the cache URL (TLS), and no breaker table; its config parser accepts it', () => {
    const { Variables } = redisResource('GetUserLambdaFunction').Environment as { Variables: Record<string, unknown> };
    expect(Variables).toMatchObject({ BREAKER_STORE: 'redis' });
    expect(Variables).not.toHaveProperty('BREAKER_TABLE_NAME');
    expect(Variables.BREAKER_REDIS_URL).toEqual({
      'Fn::Join': ['', ['rediss://', { 'Fn::GetAtt': ['BreakerCache', 'Endpoint.Address'] }, ':', { 'Fn::GetAtt': ['BreakerCache', 'Endpoint.Port'] }]],
    });
    const env = { ...Variables, TABLE_ARN: 'arn', BREAKER_REDIS_URL: 'rediss://breaker-x.serverless.use1.cache.amazonaws.com:6379' } as Record<string, string>;
    expect(loadConfig(env).breakerStore).toEqual({ kind: 'redis', url: env.BREAKER_REDIS_URL });
  });

  it("GetUser's role: the Users table, logs and X-Ray, plus the managed policy a VPC function needs; nothing for a breaker table", () => {
    const role = redisResource('GetUserIamRoleLambdaExecution');
    const statements = (role.Policies as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((policy) => policy.PolicyDocument.Statement);
    expect(statements.filter((statement) => !statement.Action.some((action) => action.startsWith('logs:')))).toEqual([
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: getAtt('Users') },
      { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
    ]);
    expect(JSON.stringify(role.ManagedPolicyArns)).toContain('service-role/AWSLambdaVPCAccessExecutionRole');
    expect(role.ManagedPolicyArns).toHaveLength(1);
  });
});

describe('dev and prod', () => {
  it('are separate stacks with separate tables, roles and settings', () => {
    const differs = (pick: (stage: Stage) => unknown) => expect(pick('dev')).not.toEqual(pick('prod'));
    expect(packaged.dev.state.service.provider.stackName).toBe('simple-web-service-dev');
    expect(packaged.prod.state.service.provider.stackName).toBe('simple-web-service-prod');
    differs((stage) => resource(stage, 'Users').TableName);
    differs((stage) => resource(stage, 'CircuitBreakers').TableName);
    differs((stage) => resource(stage, 'GetUserIamRoleLambdaExecution').RoleName);
    differs((stage) => (resource(stage, 'GetUserLambdaFunction').Environment as { Variables: Record<string, string> }).Variables.USER_DIRECTORY_URL);
  });

});
