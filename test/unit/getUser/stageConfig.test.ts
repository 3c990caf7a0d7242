/**
 * Each stage's serverless.yml params, put through the GetUser function's `environment` block, load with loadConfig:
 * the policy choice per stage is what the docs say (dev: a failure count a person trips by hand; prod: a failure
 * rate with ramp-up), and no stage's params are refused at cold start.
 */
import { readFileSync } from 'node:fs';
import { parseCloudFormationYaml } from '../../../tools/serverless-config/cloudFormationYaml';
import { SERVERLESS_YML_PATH } from '../../../tools/serverless-config/tablesFromServerlessYml';
import { loadConfig } from '../../../src/config';

interface ServerlessYml {
  params: Record<string, Record<string, string>>;
  functions: { GetUser: { environment: Record<string, unknown> } };
}

function readServerlessParams(stage: string): Record<string, string> {
  const config = parseCloudFormationYaml(readFileSync(SERVERLESS_YML_PATH, 'utf8'), SERVERLESS_YML_PATH) as ServerlessYml;
  return { ...config.params.default, ...config.params[stage] };
}

/** The function's environment for a stage, with `${param:x}` resolved; other variables are left to `base`. */
function stageEnvironment(stage: string): Record<string, string> {
  const config = parseCloudFormationYaml(readFileSync(SERVERLESS_YML_PATH, 'utf8'), SERVERLESS_YML_PATH) as ServerlessYml;
  const params = { ...config.params.default, ...config.params[stage] };
  const env: Record<string, string> = {};
  for (const [variable, value] of Object.entries(config.functions.GetUser.environment)) {
    if (typeof value !== 'string') continue;
    const param = /^\$\{param:(\w+)\}$/.exec(value);
    if (param) {
      if (params[param[1]] === undefined) throw new Error(`${variable}: param ${param[1]} is not set for stage ${stage}`);
      env[variable] = String(params[param[1]]);
    } else if (!value.includes('${')) {
      env[variable] = value;
    }
  }
  return env;
}

const base = { TABLE_NAME: 'svc-users', BREAKER_TABLE_NAME: 'svc-circuit-breakers' };

describe('stage params as the function environment', () => {
  test('dev: the failure count (5 in 30 s, as in the README story), no ramp-up', () => {
    const breaker = loadConfig({ ...stageEnvironment('dev'), ...base }).breaker;
    expect(breaker).toMatchObject({ failureThreshold: 5, windowMs: 30_000 });
    expect(breaker).not.toHaveProperty('failureRateThreshold');
    expect(breaker).not.toHaveProperty('rampUpMs');
  });

  test('prod: the failure rate with ramp-up; the failure count is not given to the breaker', () => {
    const breaker = loadConfig({ ...stageEnvironment('prod'), ...base }).breaker;
    expect(breaker).toMatchObject({ failureRateThreshold: 0.5, minimumCalls: 20, countFlushMs: 5_000, rampUpMs: 30_000, rampUpStartFraction: 0.1, windowMs: 60_000 });
    expect(breaker).not.toHaveProperty('failureThreshold');
  });

  test('prod flushes: its reserved concurrency\'s containers stay under 5 % of one partition\'s 1,000 write units per second', () => {
    const { countFlushMs } = loadConfig({ ...stageEnvironment('prod'), ...base }).breaker;
    const containers = Number(readServerlessParams('prod').reservedConcurrency);
    expect(containers).toBeGreaterThan(0);
    expect((containers * 1_000) / (countFlushMs as number)).toBeLessThanOrEqual(50);
  });
});
