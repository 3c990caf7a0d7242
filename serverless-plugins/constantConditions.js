'use strict';
/**
 * The breaker store (param breakerStore) decides which resources the stack has. serverless.yml marks each
 * store's resources with a CloudFormation Condition, `!Equals ['${param:breakerStore}', <store>]`, which the
 * framework turns into a comparison of two constants. Deploying that as is would work, but leaves dead resources
 * and dead references in the template (cfn-lint W8003, W1001) and in every review of it. So once the template is
 * complete, each condition that compares two literal strings is decided here: resources whose condition is false
 * are removed, the others lose their Condition, and the decided conditions are dropped. A template that still
 * refers to a removed resource fails packaging with the names of both.
 */
function constantValue(condition) {
  const equals = condition && condition['Fn::Equals'];
  if (!Array.isArray(equals) || equals.length !== 2 || !equals.every((side) => typeof side === 'string')) return undefined;
  return equals[0] === equals[1];
}

function referencesTo(node, logicalId, path, found) {
  if (Array.isArray(node)) node.forEach((item, i) => referencesTo(item, logicalId, `${path}[${i}]`, found));
  else if (node !== null && typeof node === 'object') {
    const getAtt = node['Fn::GetAtt'];
    if (node.Ref === logicalId || (Array.isArray(getAtt) && getAtt[0] === logicalId) || (typeof getAtt === 'string' && getAtt.split('.')[0] === logicalId)) found.push(path);
    for (const [key, value] of Object.entries(node)) referencesTo(value, logicalId, `${path}.${key}`, found);
  }
  return found;
}

class ConstantConditions {
  constructor(serverless) {
    this.serverless = serverless;
    // After the `resources` section is merged into the compiled template, before the template is written.
    this.hooks = { 'before:aws:package:finalize:saveServiceState': () => this.decide() };
  }

  decide() {
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const conditions = template.Conditions || {};
    const decided = new Map();
    for (const [name, condition] of Object.entries(conditions)) {
      const value = constantValue(condition);
      if (value !== undefined) decided.set(name, value);
    }
    const removed = [];
    for (const [logicalId, resource] of Object.entries(template.Resources || {})) {
      if (!decided.has(resource.Condition)) continue;
      if (decided.get(resource.Condition)) delete resource.Condition;
      else {
        delete template.Resources[logicalId];
        removed.push(logicalId);
      }
    }
    for (const name of decided.keys()) delete conditions[name];
    if (template.Conditions && Object.keys(template.Conditions).length === 0) delete template.Conditions;
    for (const logicalId of removed) {
      const found = referencesTo(template, logicalId, 'template', []);
      if (found.length > 0) throw new Error(`constantConditions: ${logicalId} was removed (its condition is false) but ${found.join(', ')} still refers to it`);
    }
  }
}

module.exports = ConstantConditions;
