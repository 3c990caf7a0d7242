// The plugin is plain CommonJS, as the framework loads it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ConstantConditions = require('../../../serverless-plugins/constantConditions') as new (serverless: unknown) => {
  hooks: Record<string, () => void>;
};

interface Template {
  Conditions?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Condition?: string; Properties?: Record<string, unknown> }>;
}

function packageWith(template: Template): Template {
  const copy = structuredClone(template);
  const plugin = new ConstantConditions({ service: { provider: { compiledCloudFormationTemplate: copy } } });
  plugin.hooks['before:aws:package:finalize:saveServiceState']();
  return copy;
}

const table = { Type: 'AWS::DynamoDB::Table' };
const cache = { Type: 'AWS::ElastiCache::ServerlessCache' };

describe('constantConditions', () => {
  it("keeps the chosen store's resources (without their Condition), removes the other's, and drops the decided conditions", () => {
    const template = packageWith({
      Conditions: { UsesDynamoDBStore: { 'Fn::Equals': ['redis', 'dynamodb'] }, UsesRedisStore: { 'Fn::Equals': ['redis', 'redis'] } },
      Resources: { Users: table, CircuitBreakers: { ...table, Condition: 'UsesDynamoDBStore' }, BreakerCache: { ...cache, Condition: 'UsesRedisStore' } },
    });
    expect(template).toEqual({ Resources: { Users: table, BreakerCache: cache } });
  });

  it('leaves a condition that is not a comparison of two constants (e.g. on a stack parameter) as it is', () => {
    const onParameter = { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] };
    const template = packageWith({ Conditions: { IsProd: onParameter }, Resources: { Alarm: { Type: 'AWS::CloudWatch::Alarm', Condition: 'IsProd' } } });
    expect(template).toEqual({ Conditions: { IsProd: onParameter }, Resources: { Alarm: { Type: 'AWS::CloudWatch::Alarm', Condition: 'IsProd' } } });
  });

  it('fails packaging, naming both, when a kept resource still refers to a removed one', () => {
    expect(() =>
      packageWith({
        Conditions: { UsesRedisStore: { 'Fn::Equals': ['dynamodb', 'redis'] } },
        Resources: {
          BreakerCache: { ...cache, Condition: 'UsesRedisStore' },
          GetUser: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { URL: { 'Fn::GetAtt': ['BreakerCache', 'Endpoint.Address'] } } } } },
        },
      }),
    ).toThrow(/BreakerCache was removed \(its condition is false\) but template\.Resources\.GetUser\.Properties\.Environment\.Variables\.URL still refers to it/);
  });
});

export {}; // a module, so its helpers do not clash with other test files' globals
