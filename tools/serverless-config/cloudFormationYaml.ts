/**
 * Parses YAML that uses CloudFormation's short-form tags (serverless.yml, SAM templates) into the long form:
 *   !Ref Users            -> { Ref: 'Users' }
 *   !GetAtt Users.Arn     -> { 'Fn::GetAtt': ['Users', 'Arn'] }
 *   !Join ['/', [a, b]]   -> { 'Fn::Join': ['/', [a, b]] }
 *   !Anything x           -> { 'Fn::Anything': x }
 * Every `!` tag is accepted, so a tag this file has never heard of still parses instead of crashing the local run.
 */
import { CORE_SCHEMA, defineMappingTag, defineScalarTag, defineSequenceTag, load } from 'js-yaml';

/** The long-form key of a short-form tag: `!Ref` and `!Condition` are not `Fn::` functions. */
function intrinsicKey(tagName: string): string {
  const name = tagName.slice(1);
  return name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
}

const scalarIntrinsic = defineScalarTag<Record<string, unknown>>('!', {
  matchByTagPrefix: true,
  resolve: (source, _isExplicit, tagName) => ({
    // The short form `!GetAtt Resource.Attribute` stands for the pair [Resource, Attribute].
    [intrinsicKey(tagName)]: tagName === '!GetAtt' ? splitGetAtt(source) : source,
  }),
  identify: () => false,
});

const sequenceIntrinsic = defineSequenceTag<{ tagName: string; items: unknown[] }, Record<string, unknown>>('!', {
  matchByTagPrefix: true,
  create: (tagName) => ({ tagName, items: [] }),
  addItem: (carrier, item) => {
    carrier.items.push(item);
  },
  finalize: (carrier) => ({ [intrinsicKey(carrier.tagName)]: carrier.items }),
  identify: () => false,
});

const mappingIntrinsic = defineMappingTag<{ tagName: string; entries: Record<string, unknown> }, Record<string, unknown>>('!', {
  matchByTagPrefix: true,
  create: (tagName) => ({ tagName, entries: {} }),
  addPair: (carrier, key, value) => {
    carrier.entries[String(key)] = value;
    return '';
  },
  has: (carrier, key) => Object.prototype.hasOwnProperty.call(carrier.entries, String(key)),
  keys: (result) => Object.keys(result),
  get: (result, key) => result[String(key)],
  finalize: (carrier) => ({ [intrinsicKey(carrier.tagName)]: carrier.entries }),
  identify: () => false,
});

function splitGetAtt(source: string): string[] {
  const dot = source.indexOf('.');
  return dot === -1 ? [source] : [source.slice(0, dot), source.slice(dot + 1)];
}

const cloudFormationSchema = CORE_SCHEMA.withTags(scalarIntrinsic, sequenceIntrinsic, mappingIntrinsic);

export function parseCloudFormationYaml(source: string, filename?: string): unknown {
  return load(source, { schema: cloudFormationSchema, ...(filename ? { filename } : {}) });
}
