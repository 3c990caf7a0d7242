/**
 * Imported first by the local tools (npm start, npm run breaker, bench, demo) and Jest's setup: turns off the AWS
 * SDK's notice that its releases after January 2027 need Node 22 (this project supports Node >= 20.19 locally and
 * runs nodejs22.x in Lambda; see the README). `AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED` is the SDK's own
 * switch (@aws-sdk/core's emitWarningIfUnsupportedVersion). Child processes inherit it. Never imported by src/: the
 * deployed function runs on Node 22, where the notice does not apply.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
export {};
