// The plugin is plain CommonJS, as the framework loads it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const DropUnusedDefaultRole = require('../../../serverless-plugins/dropUnusedDefaultRole') as new (serverless: unknown) => {
  hooks: Record<string, () => void>;
};

type Resources = Record<string, unknown>;

function packageWith(resources: Resources): Resources {
  const template = { Resources: structuredClone(resources) };
  const plugin = new DropUnusedDefaultRole({ service: { provider: { compiledCloudFormationTemplate: template } } });
  plugin.hooks['before:package:finalize']();
  return template.Resources;
}

const role = { Type: 'AWS::IAM::Role', Properties: {} };
const fn = (roleRef: unknown) => ({ Type: 'AWS::Lambda::Function', Properties: { Role: roleRef } });

describe('dropUnusedDefaultRole', () => {
  it('removes the default role when every function has its own', () => {
    const resources = packageWith({ IamRoleLambdaExecution: role, GetUserIamRoleLambdaExecution: role, GetUser: fn({ 'Fn::GetAtt': ['GetUserIamRoleLambdaExecution', 'Arn'] }) });
    expect(Object.keys(resources)).toEqual(['GetUserIamRoleLambdaExecution', 'GetUser']);
  });

  it.each([
    ['Fn::GetAtt array', { 'Fn::GetAtt': ['IamRoleLambdaExecution', 'Arn'] }],
    ['Fn::GetAtt string', { 'Fn::GetAtt': 'IamRoleLambdaExecution.Arn' }],
    ['Ref', { Ref: 'IamRoleLambdaExecution' }],
    ['nested in a Join', { 'Fn::Join': ['', ['x', { Ref: 'IamRoleLambdaExecution' }]] }],
  ])('keeps it when anything still refers to it (%s)', (_kind, reference) => {
    const resources = packageWith({ IamRoleLambdaExecution: role, Other: fn(reference) });
    expect(resources).toHaveProperty('IamRoleLambdaExecution');
  });

  it('keeps it when a resource depends on it', () => {
    expect(packageWith({ IamRoleLambdaExecution: role, Other: { Type: 'X', DependsOn: ['IamRoleLambdaExecution'] } })).toHaveProperty('IamRoleLambdaExecution');
  });

  it('does nothing when there is no default role', () => {
    expect(packageWith({ Other: fn('arn:aws:iam::1:role/r') })).toEqual({ Other: fn('arn:aws:iam::1:role/r') });
  });
});
