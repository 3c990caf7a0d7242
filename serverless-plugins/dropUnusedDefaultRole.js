'use strict';
/**
 * serverless-iam-roles-per-function gives each function its own role, but the framework still generates its default
 * role (IamRoleLambdaExecution, with log and X-Ray permissions) for nobody. An IAM role no function assumes is one
 * more thing to audit and nothing to gain, so it is removed from the template, only if nothing in the template still
 * refers to it. Runs after the per-function plugin (it is listed after it in serverless.yml).
 */
const DEFAULT_ROLE = 'IamRoleLambdaExecution';

function refersTo(node, logicalId) {
  if (Array.isArray(node)) return node.some((item) => refersTo(item, logicalId));
  if (node === null || typeof node !== 'object') return false;
  if (node.Ref === logicalId) return true;
  const getAtt = node['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[0] === logicalId) return true;
  if (typeof getAtt === 'string' && getAtt.split('.')[0] === logicalId) return true;
  if (Array.isArray(node.DependsOn) ? node.DependsOn.includes(logicalId) : node.DependsOn === logicalId) return true;
  return Object.values(node).some((value) => refersTo(value, logicalId));
}

class DropUnusedDefaultRole {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:finalize': () => this.drop() };
  }

  drop() {
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const resources = template.Resources || {};
    if (!(DEFAULT_ROLE in resources)) return;
    const { [DEFAULT_ROLE]: _role, ...others } = resources;
    if (refersTo({ ...template, Resources: others }, DEFAULT_ROLE)) return;
    delete resources[DEFAULT_ROLE];
  }
}

module.exports = DropUnusedDefaultRole;
