/**
 * A construct that refuses its properties says where: the error carries the
 * construct path (as aws-cdk-lib's ValidationError does) and the message ends
 * with it, so an app with many functions shows which one to change.
 */
import { join } from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import {
  GrafanaAuthentication,
  GrafanaWorkspace,
  ObservedFunction,
  ObserveFunctions,
  PrometheusWorkspace,
  TelemetryDestination,
  TelemetryExtension,
} from '../../lib/index.js';
import { inlineFunction, newStack } from './helpers.js';

const telemetry = { destinations: [TelemetryDestination.pushgateway({ url: 'http://pushgateway:9091' })] };

function thrown(build: () => unknown): Error & { constructPath?: string } {
  try {
    build();
  } catch (error) {
    return error as Error & { constructPath?: string };
  }
  throw new Error('expected an error');
}

function nested(stack: Stack): Construct {
  return new Construct(new Construct(stack, 'Service'), 'Checkout');
}

describe('construct errors name the construct path', () => {
  const cases: [string, (scope: Construct) => unknown, string, string][] = [
    [
      'ObservedFunction without an entry',
      (scope) => new ObservedFunction(scope, 'Api', { telemetry }),
      'Test/Service/Checkout/Api',
      'ObservedFunction: `entry` is required',
    ],
    [
      'ObservedFunction without a destination',
      (scope) =>
        new ObservedFunction(scope, 'Api', {
          entry: join(__dirname, 'fixtures', 'esm-handler.mjs'),
          telemetry: { destinations: [] },
        }),
      'Test/Service/Checkout/Api',
      'ObservedFunction: telemetry.destinations needs at least one destination',
    ],
    [
      'observe() with no destination',
      (scope) => ObserveFunctions.observe(inlineFunction(scope, 'Worker'), { destinations: [] }),
      'Test/Service/Checkout/Worker',
      'observe: telemetry.destinations needs at least one destination',
    ],
    [
      'PrometheusWorkspace with a bad alias',
      (scope) => new PrometheusWorkspace(scope, 'Metrics', { alias: ' padded' }),
      'Test/Service/Checkout/Metrics',
      'PrometheusWorkspace: alias " padded" is not valid',
    ],
    [
      'PrometheusWorkspace with a bad threshold',
      (scope) => new PrometheusWorkspace(scope, 'Metrics', { alertThresholds: { coldStartRatio: 2 } }),
      'Test/Service/Checkout/Metrics',
      'PrometheusWorkspace: alertThresholds.coldStartRatio must be above 0 and at most 1; got 2',
    ],
    [
      'GrafanaWorkspace with dashboards and no Prometheus',
      (scope) =>
        new GrafanaWorkspace(scope, 'Dashboards', {
          authentication: GrafanaAuthentication.iamIdentityCenter(),
          dashboards: true,
        }),
      'Test/Service/Checkout/Dashboards',
      'GrafanaWorkspace: dashboards need a data source',
    ],
    [
      'TelemetryExtension shared with a bad account',
      (scope) => new TelemetryExtension(scope, 'Layer', { shareWithAccounts: ['12345'] }),
      'Test/Service/Checkout/Layer',
      'TelemetryExtension: "12345" is not an AWS account id (12 digits)',
    ],
  ];
  for (const [title, build, path, message] of cases) {
    it(title, () => {
      const { stack } = newStack();
      const error = thrown(() => build(nested(stack)));
      expect(error.message).toContain(message);
      expect(error.message.endsWith(`(at ${path})`)).toBe(true);
      expect(error.constructPath).toBe(path);
      expect(error.name).toBe('ValidationError');
    });
  }
});
