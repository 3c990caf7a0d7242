/**
 * Packages the service for dev and prod exactly as CI and a deploy do (`sls package`), with no AWS credentials
 * and an empty HOME, and checks the CloudFormation that would be deployed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseCloudFormationYaml } from '../../../tools/serverless-config/cloudFormationYaml';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { loadConfig } from '../../../src/config';
import { ANSWER_METRIC, createMetrics, METRIC } from '../../../src/observability/metrics';
import { captureOutput } from '../../support/getUser/captureOutput';
import { zipEntries } from './zipEntries';

const PROJECT_ROOT = path.join(__dirname, '..', '..', '..');
const STAGES = ['dev', 'prod'] as const;
type Stage = (typeof STAGES)[number];

interface Packaged {
  output: string;
  directory: string;
  template: {
    Resources: Record<string, { Type: string; Condition?: string; Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;
    Parameters?: Record<string, { Default?: string; AllowedPattern?: string }>;
    Conditions?: Record<string, unknown>;
  };
  state: { service: { provider: { stackName: string } } };
}

interface Statement {
  Effect: string;
  Action: string[];
  Resource: unknown;
}

const workRoot = mkdtempSync(path.join(os.tmpdir(), 'sls-package-'));
/** A stage serverless.yml does not name gets the `default` params: it must be as safe as the named ones. */
const UNNAMED = 'staging';
/** dev with --param="breakerStore=redis" (the breaker's state in ElastiCache; GetUser in the VPC). */
const DEV_REDIS = 'dev-redis';
/** Every package the checks below run on, by name, and the stage each was packaged for. */
const VARIANTS = [...STAGES, UNNAMED, DEV_REDIS] as const;
const stageOf = (variant: string): string => (variant === DEV_REDIS ? 'dev' : variant);
const packaged = {} as Record<string, Packaged>;

async function packageStage(stage: string, args: string[] = [], variant: string = stage): Promise<Packaged> {
  const directory = path.join(workRoot, variant);
  const home = path.join(workRoot, `home-${variant}`);
  // Only what a machine with no AWS account has: no AWS_* variables, a HOME without ~/.aws.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')));
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    [require.resolve('serverless/bin/serverless.js'), 'package', '--stage', stage, '--package', directory, ...args],
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
  for (const stage of [...STAGES, UNNAMED]) packaged[stage] = await packageStage(stage);
  packaged[DEV_REDIS] = await packageStage('dev', ['--param=breakerStore=redis'], DEV_REDIS);
}, 300_000);

afterAll(() => {
  rmSync(workRoot, { recursive: true, force: true });
  for (const variant of VARIANTS) rmSync(path.join(PROJECT_ROOT, '.esbuild', `package-test-${process.pid}-${variant}`), { recursive: true, force: true });
});

const resource = (stage: string, logicalId: string) => {
  const found = packaged[stage].template.Resources[logicalId];
  if (!found) throw new Error(`the ${stage} template has no ${logicalId}`);
  return found.Properties;
};
const getAtt = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
const roleStatements = (stage: string): Statement[] => {
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
        { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'], Resource: getAtt('Users') },
        { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:PutItem'], Resource: getAtt('CircuitBreakers') },
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

type Dimensions = Array<{ Name: string; Value: string }>;
interface MetricRef {
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
}

/** What the code really emits: one EMF line from the function's own metrics, with the deployed service and circuit. */
function emittedMetric(serviceName: string, circuit: string): { namespace: string; dimensionNames: string[] } {
  const output = captureOutput();
  try {
    const metrics = createMetrics({ serviceName, circuit });
    metrics.addMetric(METRIC.circuitOpened, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  } finally {
    output.restore();
  }
  const [line] = output.jsonLines().filter((entry) => entry._aws !== undefined);
  const { Namespace, Dimensions } = (line._aws as { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> }).CloudWatchMetrics[0];
  expect(line).toMatchObject({ service: serviceName, circuit });
  return { namespace: Namespace, dimensionNames: Dimensions[0] };
}

/** Every metric an alarm or the dashboard of `stage` reads. */
function metricsRead(template: Packaged['template']): MetricRef[] {
  const refs: MetricRef[] = [];
  const dims = (dimensions: Dimensions) => Object.fromEntries(dimensions.map(({ Name, Value }) => [Name, Value]));
  for (const resource of Object.values(template.Resources)) {
    const properties = resource.Properties as Record<string, unknown>;
    // Lambda's own metrics (AWS/Lambda) are checked on their own below.
    if (resource.Type === 'AWS::CloudWatch::Alarm' && properties.Namespace !== 'AWS/Lambda') {
      if (typeof properties.MetricName === 'string') {
        refs.push({ namespace: properties.Namespace as string, name: properties.MetricName, dimensions: dims(properties.Dimensions as Dimensions) });
      }
      for (const query of (properties.Metrics ?? []) as Array<{ MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: Dimensions } } }>) {
        if (query.MetricStat) {
          const { Namespace, MetricName, Dimensions: dimensions } = query.MetricStat.Metric;
          refs.push({ namespace: Namespace, name: MetricName, dimensions: dims(dimensions) });
        }
      }
    }
    if (resource.Type === 'AWS::CloudWatch::Dashboard') {
      const body = JSON.parse(properties.DashboardBody as string) as { widgets: Array<{ properties: { metrics?: unknown[][] } }> };
      for (const widget of body.widgets) {
        for (const row of widget.properties.metrics ?? []) {
          const [namespace, name, ...rest] = row.filter((cell) => typeof cell === 'string') as string[];
          const dimensions: Record<string, string> = {};
          for (let i = 0; i < rest.length; i += 2) dimensions[rest[i]] = rest[i + 1];
          refs.push({ namespace, name, dimensions });
        }
      }
    }
  }
  return refs;
}

/** Evaluates the template's conditions and Fn::If for given stack parameter values (enough for the alarm actions). */
function evaluate(template: Packaged['template'], parameters: Record<string, string>, node: unknown): unknown {
  const condition = (name: string): boolean => evaluate(template, parameters, (template.Conditions ?? {})[name]) as boolean;
  if (Array.isArray(node)) return node.map((item) => evaluate(template, parameters, item));
  if (typeof node !== 'object' || node === null) return node;
  const [[key, value]] = Object.entries(node);
  const args = value as unknown[];
  switch (key) {
    case 'Ref':
      return value === 'AWS::NoValue' ? undefined : (parameters[value as string] ?? node);
    case 'Condition':
      return condition(value as string);
    case 'Fn::Not':
      return !evaluate(template, parameters, args[0]);
    case 'Fn::And':
      return args.every((item) => evaluate(template, parameters, item));
    case 'Fn::Equals':
      return evaluate(template, parameters, args[0]) === evaluate(template, parameters, args[1]);
    case 'Fn::If':
      return evaluate(template, parameters, condition(args[0] as string) ? args[1] : args[2]);
    default:
      return node;
  }
}

describe.each(VARIANTS)('the %s alarms and dashboard', (stage) => {
  const template = () => packaged[stage].template;
  const variables = () => (resource(stage, 'GetUserLambdaFunction').Environment as { Variables: Record<string, string> }).Variables;

  it('read only metrics the code emits, in its namespace and with exactly its dimensions', () => {
    const { namespace, dimensionNames } = emittedMetric(variables().POWERTOOLS_SERVICE_NAME, variables().BREAKER_NAME);
    const refs = metricsRead(template());
    expect(refs.length).toBeGreaterThan(10);
    const known = new Set<string>(Object.values(METRIC));
    for (const ref of refs) {
      expect([ref.name, known.has(ref.name)]).toEqual([ref.name, true]);
      expect(ref.namespace).toBe(namespace);
      expect(Object.keys(ref.dimensions).sort()).toEqual([...dimensionNames].sort());
      expect(ref.dimensions).toEqual({ service: variables().POWERTOOLS_SERVICE_NAME, circuit: variables().BREAKER_NAME });
    }
  });

  it('alarm on any circuit opening and on the share of 503 answers', () => {
    expect(resource(stage, 'CircuitOpenedAlarm')).toMatchObject({
      AlarmName: `simple-web-service-${stageOf(stage)}-circuit-opened`,
      MetricName: METRIC.circuitOpened,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    const rate = resource(stage, 'UnavailableAnswersAlarm');
    const queries = rate.Metrics as Array<{ Id: string; Expression?: string; ReturnData: boolean; MetricStat?: { Metric: { MetricName: string } } }>;
    const byId = Object.fromEntries(queries.filter((query) => query.MetricStat).map((query) => [query.Id, query.MetricStat?.Metric.MetricName]));
    // Every kind of answer, the 500s too, is in the denominator; the 503s are the numerator.
    expect(Object.values(byId).sort()).toEqual([...Object.values(ANSWER_METRIC), METRIC.internalErrorAnswers].sort());
    const [expression] = queries.filter((query) => query.ReturnData);
    const ids = (name: string) => Object.keys(byId).find((id) => byId[id] === name) as string;
    const [numerator] = (expression.Expression as string).split(' / ');
    expect(numerator).toContain(`FILL(${ids(METRIC.unavailableAnswers)}, 0)`);
    expect(numerator).toContain(`FILL(${ids(METRIC.cacheUnavailableAnswers)}, 0)`);
    expect(numerator).not.toContain(`FILL(${ids(METRIC.freshAnswers)}, 0)`);
  });

  it("alarm on any 500 answer, and on the function's Lambda errors and throttles", () => {
    expect(resource(stage, 'InternalErrorAnswersAlarm')).toMatchObject({
      MetricName: METRIC.internalErrorAnswers,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    for (const [alarm, metricName] of [
      ['FunctionErrorsAlarm', 'Errors'],
      ['FunctionThrottlesAlarm', 'Throttles'],
    ]) {
      expect(resource(stage, alarm)).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: metricName,
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'GetUserLambdaFunction' } }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it('notify nobody by default, the given topic, or a topic made for the given e-mail address', () => {
    const alarms = Object.keys(template().Resources).filter((id) => template().Resources[id].Type === 'AWS::CloudWatch::Alarm');
    expect(alarms.sort()).toEqual(
      ['CircuitOpenedAlarm', 'FunctionErrorsAlarm', 'FunctionThrottlesAlarm', 'InternalErrorAnswersAlarm', 'UnavailableAnswersAlarm'].sort(),
    );
    const actions = (parameters: Record<string, string>) =>
      ['CircuitOpenedAlarm', 'UnavailableAnswersAlarm'].map((alarm) => evaluate(template(), parameters, resource(stage, alarm).AlarmActions));
    const defaults = Object.fromEntries(Object.entries(template().Parameters ?? {}).map(([name, parameter]) => [name, parameter.Default ?? '']));
    expect(defaults).toEqual({ AlarmTopicArn: '', AlarmEmail: '' });
    expect(actions(defaults)).toEqual([undefined, undefined]);
    expect(evaluate(template(), defaults, { Condition: template().Resources.AlarmTopic.Condition })).toBe(false);

    const arn = 'arn:aws:sns:us-east-1:123456789012:on-call';
    expect(actions({ AlarmTopicArn: arn, AlarmEmail: '' })).toEqual([[arn], [arn]]);
    expect(actions({ AlarmTopicArn: '', AlarmEmail: 'oncall@example.com' })).toEqual([[{ Ref: 'AlarmTopic' }], [{ Ref: 'AlarmTopic' }]]);
    expect(evaluate(template(), { AlarmTopicArn: '', AlarmEmail: 'oncall@example.com' }, { Condition: 'CreateAlarmTopic' })).toBe(true);
    expect(resource(stage, 'AlarmTopic').Subscription).toEqual([{ Protocol: 'email', Endpoint: { Ref: 'AlarmEmail' } }]);
  });

  it('put transitions, answers by kind, directory latency p50/p99, store errors and local-mode containers on one dashboard', () => {
    const body = JSON.parse(resource(stage, 'Dashboard').DashboardBody as string) as {
      widgets: Array<{ properties: { region: string; metrics: Array<Array<string | { stat?: string }>> } }>;
    };
    const names = (widget: (typeof body.widgets)[number]) => widget.properties.metrics.map((row) => row[1]);
    const shown = body.widgets.map(names);
    expect(shown).toContainEqual([METRIC.circuitOpened, METRIC.circuitClosed]);
    expect(shown).toContainEqual([...Object.values(ANSWER_METRIC), METRIC.internalErrorAnswers]);
    expect(shown).toContainEqual([METRIC.breakerStoreErrors, METRIC.breakerOutcomesDiscarded]);
    expect(shown).toContainEqual([METRIC.breakerLocalMode]);
    const latency = body.widgets.find((widget) => names(widget).includes(METRIC.directoryLatency));
    expect(latency?.properties.metrics.map((row) => (row.at(-1) as { stat?: string }).stat)).toEqual(['p50', 'p99']);
    expect(new Set(body.widgets.map((widget) => widget.properties.region))).toEqual(new Set(['us-east-1']));
    expect(resource(stage, 'Dashboard').DashboardName).toBe(`simple-web-service-${stageOf(stage)}`);
  });
});

const COMMON_STACK = [
  'AlarmTopic',
  'CircuitOpenedAlarm',
  'Dashboard',
  'FunctionErrorsAlarm',
  'FunctionThrottlesAlarm',
  'GetUserIamRoleLambdaExecution',
  'GetUserLambdaFunction',
  'GetUserLambdaPermissionHttpApi',
  'GetUserLogGroup',
  'HttpApi',
  'HttpApiIntegrationGetUser',
  'HttpApiRouteGetUserIdVar',
  'HttpApiStage',
  'InternalErrorAnswersAlarm',
  'ServerlessDeploymentBucket',
  'ServerlessDeploymentBucketPolicy',
  'UnavailableAnswersAlarm',
  'Users',
];
const DYNAMODB_STACK = [...COMMON_STACK, 'CircuitBreakers'].sort();
const REDIS_STACK = [...COMMON_STACK, 'BreakerCache', 'BreakerCacheSecurityGroup', 'BreakerClientSecurityGroup', 'DynamoDBEndpoint'].sort();

describe('dev with breakerStore=redis', () => {
  const redisResource = (logicalId: string) => {
    return resource(DEV_REDIS, logicalId);
  };
  const ref = (logicalId: string) => ({ Ref: logicalId });

  it('packages with no warnings, GetUser still one bundled file', () => {
    expect(packaged[DEV_REDIS].output).toContain('Packaging simple-web-service for stage dev');
    expect(packaged[DEV_REDIS].output).not.toMatch(/warning/i);
    expect(zipEntries(path.join(packaged[DEV_REDIS].directory, 'GetUser.zip')).sort()).toEqual(['src/handlers/getUser.js', 'src/handlers/getUser.js.map']);
  });

  it('has an ElastiCache Serverless Valkey cache, two security groups and a DynamoDB gateway endpoint instead of the breaker table', () => {
    expect(Object.keys(packaged[DEV_REDIS].template.Resources).filter((id) => !/^GetUserLambdaVersion/.test(id)).sort()).toEqual(REDIS_STACK);
    // The store's conditions were decided when packaging; only the alarm topic's (stack parameters) remain.
    expect(Object.keys(packaged[DEV_REDIS].template.Conditions ?? {}).sort()).toEqual(['CreateAlarmTopic', 'HasAlarmTopicArn']);
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
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'], Resource: getAtt('Users') },
      { Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' },
    ]);
    expect(JSON.stringify(role.ManagedPolicyArns)).toContain('service-role/AWSLambdaVPCAccessExecutionRole');
    expect(role.ManagedPolicyArns).toHaveLength(1);
  });
});

describe('dev and prod', () => {
  it('keep logs 30 days in dev and 90 in prod; keep the Users table on stack deletion, with point-in-time recovery in prod', () => {
    const retention = (stage: Stage) => resource(stage, 'GetUserLogGroup').RetentionInDays;
    expect([retention('dev'), retention('prod')]).toEqual([30, 90]);
    for (const stage of STAGES) {
      expect(packaged[stage].template.Resources.Users).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
    const pitr = (stage: Stage) => (resource(stage, 'Users').PointInTimeRecoverySpecification as { PointInTimeRecoveryEnabled: unknown }).PointInTimeRecoveryEnabled;
    expect([pitr('dev'), pitr('prod')]).toEqual([false, true]);
  });

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

describe('who may call the HTTP API, and how much (issue 16)', () => {
  // Every variant: a stage serverless.yml does not name must not be public either, nor may the choice of store
  // change who may call.
  const ALL = VARIANTS;
  const all = packaged;
  const props = (variant: string, logicalId: string) => all[variant].template.Resources[logicalId].Properties;
  const resources = (variant: string, type: string) => Object.values(all[variant].template.Resources).filter((r) => r.Type === type).map((r) => r.Properties);
  const declared = (parseCloudFormationYaml(readFileSync(path.join(PROJECT_ROOT, 'serverless.yml'), 'utf8')) as { params: Record<string, Record<string, unknown>> }).params;
  let jwtWithoutIssuer: { failed: boolean; output: string };

  beforeAll(async () => {
    jwtWithoutIssuer = await packageStage('prod', ['--param', 'authorizer=jwt'], 'prod-jwt').then(
      (result) => ({ failed: false, output: result.output }),
      (error: { stdout?: string; stderr?: string }) => ({ failed: true, output: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
    );
  }, 120_000);
  afterAll(() => {
    rmSync(path.join(PROJECT_ROOT, '.esbuild', `package-test-${process.pid}-prod-jwt`), { recursive: true, force: true });
  });

  it('packages every stage serverless.yml names, so none escapes these checks', () => {
    expect(Object.keys(declared).filter((stage) => stage !== 'default').sort()).toEqual([...STAGES].sort());
    expect(Object.keys(declared)).not.toContain(UNNAMED);
    expect(all[UNNAMED].output).toContain(`Packaging simple-web-service for stage ${UNNAMED}`);
    expect(all[UNNAMED].output).not.toMatch(/warning/i);
  });

  it.each(ALL)('%s: routes are public only in dev; every other stage requires SigV4 (AWS_IAM)', (stage) => {
    const routes = resources(stage, 'AWS::ApiGatewayV2::Route');
    expect(routes.map((route) => route.RouteKey)).toEqual(['GET /user/{id}']);
    for (const route of routes) {
      if (stageOf(stage) === 'dev') expect(route.AuthorizationType ?? 'NONE').toBe('NONE');
      else expect(route.AuthorizationType).toBe('AWS_IAM');
    }
    expect(resources(stage, 'AWS::ApiGatewayV2::Authorizer')).toEqual([]);
  });

  it('jwt without issuer and audience fails packaging with a message naming the params', () => {
    expect(jwtWithoutIssuer.failed).toBe(true);
    expect(jwtWithoutIssuer.output).toContain('HTTP API access (stage "prod"): authorizer "jwt" needs the params jwtIssuer and jwtAudience');
  });

  it.each(ALL)('%s: CORS only for named origins, GET only, the headers the API uses, preflights cached', (stage) => {
    const cors = resources(stage, 'AWS::ApiGatewayV2::Api')[0].CorsConfiguration;
    if (stageOf(stage) !== 'dev') {
      expect(cors).toBeUndefined();
      return;
    }
    expect(cors).toEqual({
      AllowOrigins: ['http://localhost:3000', 'http://localhost:5173'],
      AllowMethods: ['GET'],
      AllowHeaders: ['Authorization', 'X-Amz-Date', 'X-Amz-Security-Token'],
      ExposeHeaders: ['x-request-id', 'x-user-source', 'age', 'retry-after'],
      MaxAge: 600,
    });
  });

  it.each(ALL)('%s: a default route throttle the reserved concurrency can serve even when every call takes the full timeout', (stage) => {
    const params = { ...declared.default, ...declared[stageOf(stage)] };
    const settings = props(stage, 'HttpApiStage').DefaultRouteSettings as Record<string, number>;
    const fn = props(stage, 'GetUserLambdaFunction') as { ReservedConcurrentExecutions: number; Timeout: number };
    expect(settings).toEqual({ DetailedMetricsEnabled: false, ThrottlingBurstLimit: params.throttlingBurstLimit, ThrottlingRateLimit: params.throttlingRateLimit });
    expect(fn.ReservedConcurrentExecutions).toBe(params.reservedConcurrency);
    expect(settings.ThrottlingRateLimit).toBeGreaterThan(0);
    expect(settings.ThrottlingBurstLimit + settings.ThrottlingRateLimit * fn.Timeout).toBeLessThanOrEqual(fn.ReservedConcurrentExecutions);
  });

  it('prod: 120 containers at most, 10 requests/s with bursts of 60', () => {
    expect(resource('prod', 'GetUserLambdaFunction').ReservedConcurrentExecutions).toBe(120);
    expect(resource('prod', 'HttpApiStage').DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 60 });
  });
});
