import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readStageBreakerSettings } from '../../../ops/stageBreakerSettings';

describe('readStageBreakerSettings', () => {
  it('reads the table name and counting settings of each stage from serverless.yml', () => {
    expect(readStageBreakerSettings('dev')).toEqual({
      stage: 'dev',
      region: 'us-east-1',
      tableName: 'simple-web-service-dev-circuit-breakers',
      circuit: 'user-directory',
      failureThreshold: 5,
      windowMs: 30_000,
      policy: 'count',
    });
    expect(readStageBreakerSettings('prod')).toMatchObject({
      tableName: 'simple-web-service-prod-circuit-breakers',
      windowMs: 60_000,
      policy: 'rate',
      rate: { failureRateThreshold: 0.5, minimumCalls: 20, countFlushMs: 5_000, stateCacheMs: 1_000 },
      rampUp: { rampUpMs: 30_000, rampUpStartFraction: 0.1 },
    });
  });

  it("reads the stage's region as the framework resolves provider.region: ${opt:region, fallback}, ${param:...}", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'stage-region-'));
    const file = (region: string) => {
      const at = path.join(dir, `${Math.random().toString(36).slice(2)}.yml`);
      writeFileSync(
        at,
        [
          'service: svc',
          'provider:',
          `  region: ${region}`,
          'params:',
          '  default: { breakerName: b, breakerFailureThreshold: "5", breakerWindowMs: "1000", region: eu-west-1 }',
          '  prod: { region: eu-central-1 }',
          'resources:',
          '  Resources:',
          '    CircuitBreakers:',
          '      Type: AWS::DynamoDB::Table',
          '      Properties:',
          '        TableName: ${self:service}-${sls:stage}-circuit-breakers',
          '        AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]',
          '        KeySchema: [{ AttributeName: id, KeyType: HASH }]',
          '        BillingMode: PAY_PER_REQUEST',
        ].join('\n'),
      );
      return at;
    };
    expect(readStageBreakerSettings('dev', file("${opt:region, 'ap-southeast-2'}")).region).toBe('ap-southeast-2');
    expect(readStageBreakerSettings('dev', file('${param:region}')).region).toBe('eu-west-1');
    expect(readStageBreakerSettings('prod', file('${param:region}')).region).toBe('eu-central-1');
    expect(() => readStageBreakerSettings('dev', file('moon-base'))).toThrow(/provider.region for stage dev is not an AWS region: "moon-base"/);
  });

  it('names a param that is not a positive integer', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'stage-settings-')), 'serverless.yml');
    writeFileSync(
      file,
      [
        'service: svc',
        'params:',
        '  default: { breakerName: b, breakerFailureThreshold: "five", breakerWindowMs: "1000" }',
        'resources:',
        '  Resources:',
        '    CircuitBreakers:',
        '      Type: AWS::DynamoDB::Table',
        '      Properties:',
        '        TableName: ${self:service}-${sls:stage}-circuit-breakers',
        '        AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]',
        '        KeySchema: [{ AttributeName: id, KeyType: HASH }]',
        '        BillingMode: PAY_PER_REQUEST',
      ].join('\n'),
    );
    expect(() => readStageBreakerSettings('dev', file)).toThrow(/params breakerFailureThreshold for stage dev must be a positive integer, got "five"/);
  });
});
