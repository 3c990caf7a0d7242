/**
 * What an operator tool needs to know about one stage's breaker, read from serverless.yml (the deployed
 * configuration is the only configuration): the state table's name and region, and the counting settings that give
 * `failures` its meaning.
 */
import { readServerlessConfig, stageRegion } from '../tools/serverless-config/serverlessConfig';
import { SERVERLESS_YML_PATH, tablesFromServerlessConfig } from '../tools/serverless-config/tablesFromServerlessYml';

export interface StageBreakerSettings {
  stage: string;
  /** Where the stage is deployed when no --region option is given (provider.region). */
  region: string;
  tableName: string;
  circuit: string;
  failureThreshold: number;
  windowMs: number;
}

/** The logical id of the breaker's table in serverless.yml. */
const BREAKER_TABLE = 'CircuitBreakers';

export function readStageBreakerSettings(stage: string, file: string = SERVERLESS_YML_PATH): StageBreakerSettings {
  const serverless = readServerlessConfig(file);
  const config = serverless.raw as { params?: Record<string, Record<string, unknown>> };
  const table = tablesFromServerlessConfig(config, stage).find((candidate) => candidate.logicalId === BREAKER_TABLE);
  if (!table?.input.TableName) throw new Error(`${file} declares no ${BREAKER_TABLE} table`);
  const params = { ...config.params?.default, ...config.params?.[stage] };
  const circuit = params.breakerName;
  if (typeof circuit !== 'string' || circuit === '') throw new Error(`${file}: params breakerName is missing for stage ${stage}`);
  return {
    stage,
    region: stageRegion(serverless, stage),
    tableName: table.input.TableName,
    circuit,
    failureThreshold: positiveInteger(params, 'breakerFailureThreshold', file, stage),
    windowMs: positiveInteger(params, 'breakerWindowMs', file, stage),
  };
}

function positiveInteger(params: Record<string, unknown>, name: string, file: string, stage: string): number {
  const value = Number(params[name]);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`${file}: params ${name} for stage ${stage} must be a positive integer, got ${JSON.stringify(params[name])}`);
  }
  return value;
}
