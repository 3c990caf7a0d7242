/**
 * The DynamoDB tables of serverless.yml (`resources.Resources`, Type AWS::DynamoDB::Table), turned into
 * CreateTable requests for the local server: the deployed schema is the only schema, there is no second copy.
 *
 * Keeps what shapes the data (name, keys, indexes, billing, stream) and the TTL attribute, which is enabled where the
 * server has the TTL API (DynamoDB Local; dynalite has none); drops what only matters in AWS (encryption, backups,
 * tags, deletion protection).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CreateTableCommand, UpdateTimeToLiveCommand, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseCloudFormationYaml } from './cloudFormationYaml';
import { resolveServerlessVariables } from './serverlessVariables';

export const SERVERLESS_YML_PATH = path.join(__dirname, '..', '..', 'serverless.yml');

export class TableDefinitionError extends Error {
  override readonly name = 'TableDefinitionError';
}

export interface LocalTable {
  /** The CloudFormation logical id, e.g. `Users`. */
  logicalId: string;
  input: CreateTableCommandInput;
  /** TimeToLiveSpecification's attribute, when enabled. */
  ttlAttribute?: string;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads serverless.yml and returns its tables with names resolved for `stage`. */
export function readTablesFromServerlessYml(options: { stage: string; file?: string }): LocalTable[] {
  const file = options.file ?? SERVERLESS_YML_PATH;
  let config: unknown;
  try {
    config = parseCloudFormationYaml(readFileSync(file, 'utf8'), file);
  } catch (error) {
    throw new TableDefinitionError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  return tablesFromServerlessConfig(config, options.stage);
}

/** The tables of an already parsed serverless.yml. */
export function tablesFromServerlessConfig(config: unknown, stage: string): LocalTable[] {
  if (!isObject(config)) throw new TableDefinitionError('serverless.yml is not a YAML mapping');
  const resources = isObject(config.resources) && isObject(config.resources.Resources) ? config.resources.Resources : {};
  const tables: LocalTable[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    if (!isObject(resource) || resource.Type !== 'AWS::DynamoDB::Table') continue;
    const where = `resources.Resources.${logicalId}.Properties`;
    const properties = resolveServerlessVariables(resource.Properties, { config, stage, where });
    tables.push({ logicalId, input: createTableInput(properties, where), ...ttlAttributeOf(properties, where) });
  }
  if (tables.length === 0) throw new TableDefinitionError('serverless.yml declares no AWS::DynamoDB::Table under resources.Resources');
  return tables;
}

/**
 * Creates every table and enables its TTL where the server can; one that already exists (a persistent data directory)
 * is left as it is. Returns the tables whose TTL the server could not enable (dynalite has no TTL API).
 */
export async function createTables(client: DynamoDBClient, tables: readonly LocalTable[]): Promise<{ ttlUnsupported: string[] }> {
  const ttlUnsupported: string[] = [];
  for (const { input, ttlAttribute } of tables) {
    try {
      await client.send(new CreateTableCommand(input));
    } catch (error) {
      if ((error as Error).name !== 'ResourceInUseException') throw error;
      continue;
    }
    if (ttlAttribute === undefined) continue;
    try {
      await client.send(
        new UpdateTimeToLiveCommand({ TableName: input.TableName, TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true } }),
      );
    } catch (error) {
      if ((error as Error).name !== 'UnknownOperationException') throw error;
      ttlUnsupported.push(input.TableName as string);
    }
  }
  return { ttlUnsupported };
}

function ttlAttributeOf(properties: unknown, where: string): { ttlAttribute?: string } {
  const spec = isObject(properties) ? properties.TimeToLiveSpecification : undefined;
  if (spec === undefined) return {};
  if (!isObject(spec) || typeof spec.AttributeName !== 'string' || typeof spec.Enabled !== 'boolean') {
    throw new TableDefinitionError(`${where}.TimeToLiveSpecification must have an AttributeName and Enabled: true or false`);
  }
  return spec.Enabled ? { ttlAttribute: spec.AttributeName } : {};
}

function createTableInput(properties: unknown, where: string): CreateTableCommandInput {
  if (!isObject(properties)) throw new TableDefinitionError(`${where} must be a mapping`);
  const fail = (field: string, problem: string): never => {
    throw new TableDefinitionError(`${where}.${field} ${problem}`);
  };

  const tableName = properties.TableName;
  if (typeof tableName !== 'string') fail('TableName', 'is required as a plain string (the function receives it by environment)');
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(tableName as string)) fail('TableName', `"${String(tableName)}" is not a valid table name`);

  const attributeDefinitions = attributeDefinitionsOf(properties.AttributeDefinitions, fail);
  const keySchema = keySchemaOf(properties.KeySchema, 'KeySchema', fail);
  const defined = new Set(attributeDefinitions.map((attribute) => attribute.AttributeName));
  for (const key of keySchema) {
    if (!defined.has(key.AttributeName)) fail('KeySchema', `uses "${key.AttributeName}", which AttributeDefinitions does not define`);
  }

  const billingMode = properties.BillingMode ?? 'PROVISIONED';
  if (billingMode !== 'PAY_PER_REQUEST' && billingMode !== 'PROVISIONED') return fail('BillingMode', 'must be PAY_PER_REQUEST or PROVISIONED');
  const provisioned = billingMode === 'PROVISIONED';
  if (provisioned && !isObject(properties.ProvisionedThroughput)) fail('ProvisionedThroughput', 'is required when BillingMode is PROVISIONED');

  const input: CreateTableCommandInput = {
    TableName: tableName as string,
    AttributeDefinitions: attributeDefinitions,
    KeySchema: keySchema,
    BillingMode: billingMode,
  };
  if (provisioned) input.ProvisionedThroughput = throughputOf(properties.ProvisionedThroughput);
  if (properties.StreamSpecification !== undefined) {
    const stream = properties.StreamSpecification;
    if (!isObject(stream) || typeof stream.StreamViewType !== 'string') fail('StreamSpecification', 'must have a StreamViewType');
    input.StreamSpecification = { StreamEnabled: true, StreamViewType: (stream as Json).StreamViewType as 'NEW_AND_OLD_IMAGES' };
  }
  if (properties.GlobalSecondaryIndexes !== undefined) {
    input.GlobalSecondaryIndexes = indexesOf(properties.GlobalSecondaryIndexes, 'GlobalSecondaryIndexes', fail).map(
      ({ IndexName, KeySchema, Projection, ProvisionedThroughput }) => ({
        IndexName,
        KeySchema,
        Projection,
        ...(provisioned ? { ProvisionedThroughput: throughputOf(ProvisionedThroughput) } : {}),
      }),
    );
  }
  if (properties.LocalSecondaryIndexes !== undefined) {
    input.LocalSecondaryIndexes = indexesOf(properties.LocalSecondaryIndexes, 'LocalSecondaryIndexes', fail).map(
      ({ IndexName, KeySchema, Projection }) => ({ IndexName, KeySchema, Projection }),
    );
  }
  return input;
}

type Fail = (field: string, problem: string) => never;

function attributeDefinitionsOf(value: unknown, fail: Fail): { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[] {
  if (!Array.isArray(value) || value.length === 0) return fail('AttributeDefinitions', 'must be a non-empty list');
  return value.map((entry, i) => {
    if (!isObject(entry) || typeof entry.AttributeName !== 'string' || !['S', 'N', 'B'].includes(entry.AttributeType as string)) {
      return fail(`AttributeDefinitions[${i}]`, 'must have an AttributeName and an AttributeType of S, N or B');
    }
    return { AttributeName: entry.AttributeName, AttributeType: entry.AttributeType as 'S' | 'N' | 'B' };
  });
}

function keySchemaOf(value: unknown, field: string, fail: Fail): { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 2) return fail(field, 'must list one HASH key and at most one RANGE key');
  const keys = value.map((entry, i) => {
    if (!isObject(entry) || typeof entry.AttributeName !== 'string' || (entry.KeyType !== 'HASH' && entry.KeyType !== 'RANGE')) {
      return fail(`${field}[${i}]`, 'must have an AttributeName and a KeyType of HASH or RANGE');
    }
    return { AttributeName: entry.AttributeName, KeyType: entry.KeyType as 'HASH' | 'RANGE' };
  });
  if (keys[0].KeyType !== 'HASH' || keys.slice(1).some((key) => key.KeyType !== 'RANGE')) fail(field, 'must start with the HASH key, then at most one RANGE key');
  return keys;
}

function indexesOf(value: unknown, field: string, fail: Fail) {
  if (!Array.isArray(value)) return fail(field, 'must be a list');
  return value.map((entry, i) => {
    if (!isObject(entry) || typeof entry.IndexName !== 'string' || !isObject(entry.Projection)) {
      return fail(`${field}[${i}]`, 'must have an IndexName, a KeySchema and a Projection');
    }
    return {
      IndexName: entry.IndexName,
      KeySchema: keySchemaOf(entry.KeySchema, `${field}[${i}].KeySchema`, fail),
      Projection: entry.Projection as { ProjectionType?: 'ALL' | 'KEYS_ONLY' | 'INCLUDE'; NonKeyAttributes?: string[] },
      ProvisionedThroughput: entry.ProvisionedThroughput,
    };
  });
}

function throughputOf(value: unknown): { ReadCapacityUnits: number; WriteCapacityUnits: number } {
  const throughput = isObject(value) ? value : {};
  return { ReadCapacityUnits: Number(throughput.ReadCapacityUnits ?? 1), WriteCapacityUnits: Number(throughput.WriteCapacityUnits ?? 1) };
}
