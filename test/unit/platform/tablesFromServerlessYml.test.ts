import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCloudFormationYaml } from '../../../tools/serverless-config/cloudFormationYaml';
import { resolveServerlessVariables } from '../../../tools/serverless-config/serverlessVariables';
import {
  readTablesFromServerlessYml,
  SERVERLESS_YML_PATH,
  TableDefinitionError,
  tablesFromServerlessConfig,
} from '../../../tools/serverless-config/tablesFromServerlessYml';

/** A serverless.yml with one table whose Properties are `properties` (YAML, indented for the slot). */
const withTable = (properties: string): unknown =>
  parseCloudFormationYaml(`
service: svc
resources:
  Resources:
    Things:
      Type: AWS::DynamoDB::Table
      Properties:
${properties}
`);

const VALID_PROPERTIES = `
        TableName: \${self:service}-\${sls:stage}-things
        AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]
        KeySchema: [{ AttributeName: pk, KeyType: HASH }]
        BillingMode: PAY_PER_REQUEST`;

describe('the tables of the real serverless.yml', () => {
  it('are Users and CircuitBreakers, keyed by id (S), on demand, named per stage', () => {
    for (const stage of ['dev', 'prod']) {
      const tables = readTablesFromServerlessYml({ stage });
      expect(tables.map((table) => table.logicalId)).toEqual(['Users', 'CircuitBreakers']);
      const [users, breakers] = tables.map((table) => table.input);
      expect(users.TableName).toBe(`simple-web-service-${stage}-users`);
      expect(breakers.TableName).toBe(`simple-web-service-${stage}-circuit-breakers`);
      for (const table of [users, breakers]) {
        expect(table.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
        expect(table.AttributeDefinitions).toEqual([{ AttributeName: 'id', AttributeType: 'S' }]);
        expect(table.BillingMode).toBe('PAY_PER_REQUEST');
      }
      expect(users.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
      expect(breakers.StreamSpecification).toBeUndefined();
    }
  });

  it('are the tables the function is told about in its environment', () => {
    const config = parseCloudFormationYaml(readFileSync(SERVERLESS_YML_PATH, 'utf8')) as {
      functions: { GetUser: { environment: Record<string, unknown> } };
      custom: { breakerStores: { dynamodb: { environment: Record<string, unknown> } } };
    };
    const { TABLE_NAME } = config.functions.GetUser.environment;
    // The breaker table's name comes with the dynamodb store's environment (merged in by provider.environment).
    const { BREAKER_TABLE_NAME } = config.custom.breakerStores.dynamodb.environment;
    const environment = resolveServerlessVariables({ TABLE_NAME, BREAKER_TABLE_NAME }, { config, stage: 'dev', where: 'env' });
    const names = Object.fromEntries(readTablesFromServerlessYml({ stage: 'dev' }).map((table) => [table.logicalId, table.input.TableName]));
    expect(environment).toEqual({ TABLE_NAME: names.Users, BREAKER_TABLE_NAME: names.CircuitBreakers });
  });
});

describe('CloudFormation short-form tags', () => {
  it('become the long form', () => {
    expect(
      parseCloudFormationYaml(`
ref: !Ref Users
getAtt: !GetAtt Users.StreamArn
join: !Join ['/', [!GetAtt Users.Arn, '*']]
sub: !Sub '\${AWS::Region}-x'
condition: !Condition IsProd
select: !Select { index: 0 }
`),
    ).toEqual({
      ref: { Ref: 'Users' },
      getAtt: { 'Fn::GetAtt': ['Users', 'StreamArn'] },
      join: { 'Fn::Join': ['/', [{ 'Fn::GetAtt': ['Users', 'Arn'] }, '*']] },
      sub: { 'Fn::Sub': '${AWS::Region}-x' },
      condition: { Condition: 'IsProd' },
      select: { 'Fn::Select': { index: 0 } },
    });
  });

  it('that are unknown, anywhere in the file, do not stop the tables being read', () => {
    const config = parseCloudFormationYaml(`
service: svc
custom:
  something: !MadeUpTag [1, 2]
resources:
  Conditions:
    IsProd: !Equals ['\${sls:stage}', prod]
  Resources:
    Topic:
      Type: AWS::SNS::Topic
      Properties:
        TopicName: !SomethingNew { a: b }
    Things:
      Type: AWS::DynamoDB::Table
      Properties:${VALID_PROPERTIES}
        SSESpecification: !If [IsProd, { SSEEnabled: true }, !Ref AWS::NoValue]
        Tags: [{ Key: owner, Value: !ImportValue team }]
`);
    const [table] = tablesFromServerlessConfig(config, 'dev');
    expect(table.input).toEqual({
      TableName: 'svc-dev-things',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
  });
});

describe('a table definition', () => {
  it('keeps indexes and provisioned throughput', () => {
    const [table] = tablesFromServerlessConfig(
      withTable(`
        TableName: things
        AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }, { AttributeName: sk, AttributeType: N }, { AttributeName: g, AttributeType: S }]
        KeySchema: [{ AttributeName: pk, KeyType: HASH }, { AttributeName: sk, KeyType: RANGE }]
        ProvisionedThroughput: { ReadCapacityUnits: 2, WriteCapacityUnits: 3 }
        GlobalSecondaryIndexes:
          - IndexName: byG
            KeySchema: [{ AttributeName: g, KeyType: HASH }]
            Projection: { ProjectionType: KEYS_ONLY }
            ProvisionedThroughput: { ReadCapacityUnits: 4, WriteCapacityUnits: 5 }`),
      'dev',
    );
    expect(table.input.BillingMode).toBe('PROVISIONED');
    expect(table.input.ProvisionedThroughput).toEqual({ ReadCapacityUnits: 2, WriteCapacityUnits: 3 });
    expect(table.input.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'byG',
        KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'KEYS_ONLY' },
        ProvisionedThroughput: { ReadCapacityUnits: 4, WriteCapacityUnits: 5 },
      },
    ]);
  });

  it.each([
    [
      'without a KeySchema',
      `
        TableName: things
        AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]`,
      'resources.Resources.Things.Properties.KeySchema must list one HASH key',
    ],
    [
      'keyed on an undefined attribute',
      `
        TableName: things
        AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]
        KeySchema: [{ AttributeName: id, KeyType: HASH }]
        BillingMode: PAY_PER_REQUEST`,
      'resources.Resources.Things.Properties.KeySchema uses "id", which AttributeDefinitions does not define',
    ],
    [
      'with a bad attribute type',
      `
        TableName: things
        AttributeDefinitions: [{ AttributeName: pk, AttributeType: STRING }]
        KeySchema: [{ AttributeName: pk, KeyType: HASH }]`,
      'resources.Resources.Things.Properties.AttributeDefinitions[0] must have an AttributeName and an AttributeType of S, N or B',
    ],
    [
      'named by an intrinsic function',
      `
        TableName: !Join ['-', [a, b]]
        AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]
        KeySchema: [{ AttributeName: pk, KeyType: HASH }]`,
      'resources.Resources.Things.Properties.TableName is required as a plain string',
    ],
    [
      'with a name DynamoDB refuses',
      `
        TableName: a b
        AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]
        KeySchema: [{ AttributeName: pk, KeyType: HASH }]
        BillingMode: PAY_PER_REQUEST`,
      'resources.Resources.Things.Properties.TableName "a b" is not a valid table name',
    ],
    [
      'provisioned without throughput',
      `
        TableName: things
        AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]
        KeySchema: [{ AttributeName: pk, KeyType: HASH }]`,
      'resources.Resources.Things.Properties.ProvisionedThroughput is required when BillingMode is PROVISIONED',
    ],
    [
      'named from a variable the local run cannot resolve',
      `
        TableName: \${env:TABLE}-things
        AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }]
        KeySchema: [{ AttributeName: pk, KeyType: HASH }]`,
      'resources.Resources.Things.Properties.TableName: ${env:TABLE} is not supported here',
    ],
  ])('%s is rejected with an error naming the field', (_case, properties, message) => {
    expect(() => tablesFromServerlessConfig(withTable(properties), 'dev')).toThrow(message);
  });

  it('missing altogether is an error, not an empty local database', () => {
    expect(() => tablesFromServerlessConfig(parseCloudFormationYaml('service: svc\n'), 'dev')).toThrow(
      new TableDefinitionError('serverless.yml declares no AWS::DynamoDB::Table under resources.Resources'),
    );
  });
});

describe('reading a serverless.yml file', () => {
  let directory: string;
  beforeEach(() => (directory = mkdtempSync(path.join(os.tmpdir(), 'sls-yml-'))));
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('that is not valid YAML names the file', () => {
    const file = path.join(directory, 'serverless.yml');
    writeFileSync(file, 'resources:\n  Resources: [unclosed\n');
    expect(() => readTablesFromServerlessYml({ stage: 'dev', file })).toThrow(`cannot read ${file}`);
  });
});

describe('serverless variables', () => {
  const config = {
    service: 'svc',
    provider: { stage: "${opt:stage, 'dev'}" },
    custom: { prod: { suffix: 'live' }, loop: '${self:custom.loop}' },
  };
  const resolve = (text: string, stage = 'prod'): unknown => resolveServerlessVariables(text, { config, stage, where: 'here' });

  it('follow self: references, nested variables and fallbacks', () => {
    expect(resolve('${self:service}-${self:provider.stage}')).toBe('svc-prod');
    expect(resolve('${self:custom.${sls:stage}.suffix}')).toBe('live');
    expect(resolve("${self:custom.missing, 'fallback'}")).toBe('fallback');
  });

  it('report a reference that names nothing, or a cycle', () => {
    expect(() => resolve('${self:custom.missing}')).toThrow('here: ${self:custom.missing} does not name a string in serverless.yml');
    expect(() => resolve('${self:custom.loop}')).toThrow('here: variables in "${self:custom.loop}" do not resolve');
  });
});
