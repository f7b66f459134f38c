import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

export const ENV = { account: '111122223333', region: 'eu-west-1' };

export function newStack(id = 'Test'): { app: App; stack: Stack } {
  const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'observed-cdk-')) });
  const stack = new Stack(app, id, { env: ENV });
  return { app, stack };
}

/** A function that needs no bundling. */
export function inlineFunction(scope: Construct, id: string, runtime = lambda.Runtime.NODEJS_22_X): lambda.Function {
  return new lambda.Function(scope, id, {
    runtime,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ ok: true });'),
  });
}

/** Every IAM policy statement attached to the role of `fn`, resolved as in the template. */
export function roleStatements(template: Template, stack: Stack, fn: lambda.Function): unknown[] {
  const roleId = stack.getLogicalId(fn.role!.node.defaultChild as iam.CfnRole);
  const policies = template.findResources('AWS::IAM::Policy');
  const out: unknown[] = [];
  for (const policy of Object.values(policies)) {
    const roles = (policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref);
    if (roles.includes(roleId)) out.push(...(policy.Properties.PolicyDocument.Statement as unknown[]));
  }
  return out;
}

/** The template with asset hashes replaced, so snapshots do not change with every build of the layer. */
export function normalizedTemplate(stack: Stack): unknown {
  const json = JSON.stringify(Template.fromStack(stack).toJSON());
  return JSON.parse(
    json.replace(/[0-9a-f]{64}(\.zip|\.json)?/g, (_m, ext: string | undefined) => `<asset-hash>${ext ?? ''}`),
  );
}
