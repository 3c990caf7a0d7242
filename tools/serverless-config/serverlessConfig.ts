/**
 * serverless.yml as the tools outside the deployed function read it (the local run, the operator command, the bench):
 * the service's name and a stage's region and params, resolved the way `sls package` resolves them.
 */
import { readFileSync } from 'node:fs';
import { parseCloudFormationYaml } from './cloudFormationYaml';
import { resolveServerlessVariables } from './serverlessVariables';
import { SERVERLESS_YML_PATH } from './tablesFromServerlessYml';

/** The framework's own default when provider.region is not set. */
export const FRAMEWORK_DEFAULT_REGION = 'us-east-1';

export interface ServerlessConfig {
  /** The parsed file, CloudFormation tags in long form, variables unresolved. */
  raw: Record<string, unknown>;
  file: string;
  service: string;
}

export function readServerlessConfig(file: string = SERVERLESS_YML_PATH): ServerlessConfig {
  const raw = parseCloudFormationYaml(readFileSync(file, 'utf8'), file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${file} is not a YAML mapping`);
  const { service } = raw as { service?: unknown };
  if (typeof service !== 'string' || service === '') throw new Error(`${file} names no service`);
  return { raw: raw as Record<string, unknown>, file, service };
}

/**
 * The region `sls deploy --stage <stage>` would deploy to: provider.region resolved for the stage, with `options` as
 * the command line's `--name value` options (none: the fallbacks in the file apply, e.g. ${opt:region, 'us-east-1'}).
 */
export function stageRegion(config: ServerlessConfig, stage: string, options: Record<string, string> = {}): string {
  const provider = config.raw.provider as Record<string, unknown> | undefined;
  if (provider?.region === undefined) return FRAMEWORK_DEFAULT_REGION;
  const region = resolveServerlessVariables(provider.region, { config: config.raw, stage, where: 'provider.region', options });
  if (typeof region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) {
    throw new Error(`${config.file}: provider.region for stage ${stage} is not an AWS region: ${JSON.stringify(region)}`);
  }
  return region;
}
