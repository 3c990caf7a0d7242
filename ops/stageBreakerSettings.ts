/**
 * What an operator tool needs to know about one stage's breaker, read from serverless.yml (the deployed
 * configuration is the only configuration): the state table's name and region, and the opening policy's settings that
 * give `failures` and `calls` their meaning (breakerPolicy: count or rate) and the ramp-up after a close.
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
  /** The opening policy the stage runs (params breakerPolicy; default count). */
  policy: 'count' | 'rate';
  /** The rate policy's settings (policy rate only). */
  rate?: { failureRateThreshold: number; minimumCalls: number; countFlushMs?: number; stateCacheMs?: number };
  /** The ramp-up after a close (only when params breakerRampUpMs > 0). */
  rampUp?: { rampUpMs: number; rampUpStartFraction?: number };
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
    ...policySettings(params, file, stage),
  };
}

function policySettings(params: Record<string, unknown>, file: string, stage: string): Pick<StageBreakerSettings, 'policy' | 'rate' | 'rampUp'> {
  const policy = params.breakerPolicy ?? 'count';
  if (policy !== 'count' && policy !== 'rate') throw new Error(`${file}: params breakerPolicy for stage ${stage} must be count or rate, got ${JSON.stringify(policy)}`);
  const rampUpMs = params.breakerRampUpMs === undefined ? 0 : wholeNumber(params, 'breakerRampUpMs', file, stage);
  const rampUp =
    rampUpMs > 0
      ? { rampUp: { rampUpMs, ...(params.breakerRampUpStartFraction === undefined ? {} : { rampUpStartFraction: fraction(params, 'breakerRampUpStartFraction', file, stage) }) } }
      : {};
  if (policy === 'count') return { policy, ...rampUp };
  return {
    policy,
    rate: {
      failureRateThreshold: fraction(params, 'breakerFailureRateThreshold', file, stage),
      minimumCalls: positiveInteger(params, 'breakerMinimumCalls', file, stage),
      ...(params.breakerCountFlushMs === undefined ? {} : { countFlushMs: wholeNumber(params, 'breakerCountFlushMs', file, stage) }),
      ...(params.breakerStateCacheMs === undefined ? {} : { stateCacheMs: wholeNumber(params, 'breakerStateCacheMs', file, stage) }),
    },
    ...rampUp,
  };
}

function wholeNumber(params: Record<string, unknown>, name: string, file: string, stage: string): number {
  const value = Number(params[name]);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${file}: params ${name} for stage ${stage} must be a whole number, got ${JSON.stringify(params[name])}`);
  }
  return value;
}

function fraction(params: Record<string, unknown>, name: string, file: string, stage: string): number {
  const value = Number(params[name]);
  if (!(value > 0 && value <= 1)) throw new Error(`${file}: params ${name} for stage ${stage} must be a fraction in (0, 1], got ${JSON.stringify(params[name])}`);
  return value;
}

function positiveInteger(params: Record<string, unknown>, name: string, file: string, stage: string): number {
  const value = Number(params[name]);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`${file}: params ${name} for stage ${stage} must be a positive integer, got ${JSON.stringify(params[name])}`);
  }
  return value;
}
