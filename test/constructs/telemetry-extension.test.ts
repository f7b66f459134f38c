import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TelemetryExtension } from '../../lib/index.js';
import { ENV, newStack } from './helpers.js';

describe('TelemetryExtension', () => {
  it('is one layer per stack, for every supported Node.js runtime on both architectures', () => {
    const { app, stack } = newStack();
    const first = TelemetryExtension.of(stack);
    expect(TelemetryExtension.of(stack)).toBe(first);
    const other = new Stack(app, 'Other', { env: ENV });
    expect(TelemetryExtension.of(other)).not.toBe(first);

    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::LayerVersion', 1);
    template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      CompatibleRuntimes: ['nodejs20.x', 'nodejs22.x', 'nodejs24.x'],
      CompatibleArchitectures: ['x86_64', 'arm64'],
      LicenseInfo: 'Apache-2.0',
    });
    template.resourceCountIs('AWS::Lambda::LayerVersionPermission', 0);
  });

  it('ships the prebuilt layer as an asset whose hash depends on the bundle only', () => {
    const keys = [newStack(), newStack()].map(({ stack }) => {
      TelemetryExtension.of(stack);
      const layer = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::LayerVersion'))[0];
      return layer.Properties.Content.S3Key as string;
    });
    expect(keys[0]).toMatch(/^[0-9a-f]{64}\.zip$/);
    expect(keys[1]).toBe(keys[0]);
  });

  it('shares the layer with accounts and an organization', () => {
    const { stack } = newStack();
    new TelemetryExtension(stack, 'Shared', {
      shareWithAccounts: ['444455556666'],
      shareWithOrganization: 'o-abcdef1234',
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::LayerVersionPermission', 2);
    template.hasResourceProperties('AWS::Lambda::LayerVersionPermission', {
      Action: 'lambda:GetLayerVersion',
      Principal: '444455556666',
      OrganizationId: Match.absent(),
    });
    template.hasResourceProperties('AWS::Lambda::LayerVersionPermission', {
      Action: 'lambda:GetLayerVersion',
      Principal: '*',
      OrganizationId: 'o-abcdef1234',
    });
  });

  it('refuses what is not an account or organization id', () => {
    const { stack } = newStack();
    expect(() => new TelemetryExtension(stack, 'A', { shareWithAccounts: ['12345'] })).toThrow(
      'TelemetryExtension: "12345" is not an AWS account id (12 digits)',
    );
    expect(() => new TelemetryExtension(stack, 'B', { shareWithOrganization: 'org-1' })).toThrow(
      'TelemetryExtension: "org-1" is not an organization id',
    );
  });
});
