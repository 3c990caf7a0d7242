/**
 * Resolves the few Serverless Framework variables the local run meets in resource definitions, the way
 * `sls package` resolves them, without starting the framework (which takes seconds):
 *   ${sls:stage}, ${opt:stage[, fallback]}  -> the stage
 *   ${opt:name[, fallback]}                 -> that command-line option (`options`), else the fallback
 *   ${param:name[, fallback]}               -> the stage's param (params.<stage>, then params.default)
 *   ${self:path.to.value[, fallback]}       -> that value of serverless.yml, itself resolved
 * Anything else (${env:...}, ${ssm:...}) is an error naming the variable and where it was found,
 * so a table definition never reaches the local server half-resolved.
 */
export class UnsupportedVariableError extends Error {
  override readonly name = 'UnsupportedVariableError';
}

/** The innermost `${...}`: nested variables such as ${self:custom.${sls:stage}} resolve from the inside out. */
const INNERMOST_VARIABLE = /\$\{([^${}]+)\}/;
/** Enough for any sensible chain of ${self:} references; stops a reference cycle. */
const MAX_RESOLUTION_STEPS = 50;

export interface VariableContext {
  /** The parsed serverless.yml, for ${self:} references. */
  config: unknown;
  stage: string;
  /** Where the value came from, for error messages, e.g. resources.Resources.Users.Properties. */
  where: string;
  /** Command-line options for ${opt:name}, e.g. { region: 'eu-west-1' }; none by default. */
  options?: Record<string, string>;
}

/** Returns a copy of `value` with every string's variables resolved. */
export function resolveServerlessVariables(value: unknown, context: VariableContext): unknown {
  if (typeof value === 'string') return resolveString(value, context);
  if (Array.isArray(value)) return value.map((item, i) => resolveServerlessVariables(item, { ...context, where: `${context.where}[${i}]` }));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, resolveServerlessVariables(item, { ...context, where: `${context.where}.${key}` })]),
    );
  }
  return value;
}

function resolveString(text: string, context: VariableContext): string {
  let result = text;
  for (let step = 0; step < MAX_RESOLUTION_STEPS; step += 1) {
    const match = INNERMOST_VARIABLE.exec(result);
    if (!match) return result;
    result = result.slice(0, match.index) + resolveVariable(match[1], context) + result.slice(match.index + match[0].length);
  }
  throw new UnsupportedVariableError(`${context.where}: variables in "${text}" do not resolve (a reference cycle?)`);
}

function resolveVariable(expression: string, context: VariableContext): string {
  // `source:address, fallback`: the local run always has a stage and follows self: references, so the fallback
  // only matters when the address is missing.
  const [reference, ...fallbackParts] = expression.split(',');
  const fallback = fallbackParts.join(',').trim();
  const [source, address = ''] = reference.trim().split(/:(.*)/s, 2);

  if ((source === 'sls' || source === 'opt') && address === 'stage') return context.stage;
  if (source === 'opt') {
    const option = context.options?.[address];
    if (option !== undefined) return option;
    if (fallback) return unquote(fallback);
    throw new UnsupportedVariableError(`${context.where}: \${${expression}} needs the --${address} option, which was not given`);
  }
  if (source === 'param') {
    const params = (context.config as { params?: Record<string, Record<string, unknown> | undefined> } | undefined)?.params;
    const value = params?.[context.stage]?.[address] ?? params?.default?.[address];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
    if (fallback) return unquote(fallback);
    throw new UnsupportedVariableError(`${context.where}: \${${expression}} names no param of stage ${context.stage}`);
  }
  if (source === 'self') {
    const value = address.split('.').reduce<unknown>(
      (node, key) => (typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined),
      context.config,
    );
    if (typeof value === 'string' || typeof value === 'number') return String(value);
    if (value === undefined && fallback) return unquote(fallback);
    throw new UnsupportedVariableError(`${context.where}: \${${expression}} does not name a string in serverless.yml`);
  }
  throw new UnsupportedVariableError(
    `${context.where}: \${${expression}} is not supported here (only \${sls:stage}, \${opt:...}, \${param:...} and \${self:...})`,
  );
}

function unquote(fallback: string): string {
  const quoted = /^(['"])(.*)\1$/s.exec(fallback);
  return quoted ? quoted[2] : fallback;
}
