/**
 * The sample app (`npx cdk synth` at the repository root). It runs the cdk-nag
 * AwsSolutions checks on the stack and fails the synth on any finding.
 */
import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SampleStack } from './sample-stack.js';

const app = new App();
const stack = new SampleStack(app, 'ObservedLambdaSample', {
  env: {
    account: process.env.CDK_DEFAULT_ACCOUNT ?? '111122223333',
    region: process.env.CDK_DEFAULT_REGION ?? 'eu-west-1',
  },
});
// Checked after synthesis, so that what aspects add is checked too.
app.synth();
const result = new AwsSolutionsChecks(app).validateScope(stack);
if (!result.success) {
  for (const violation of result.violations) console.error(JSON.stringify(violation));
  throw new Error(`cdk-nag AwsSolutions: ${result.violations.length} finding(s) in ${stack.stackName}`);
}
