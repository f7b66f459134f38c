import { Stack, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { ConstructValidationError } from './errors.js';
import { packagedPath } from './package-paths.js';
import type { Settings } from './settings.js';

interface ExtensionConfigLoader {
  loadConfig(env: Record<string, string>): { warnings: string[] };
}

let loader: ExtensionConfigLoader | undefined;

/** The extension's own configuration loader, bundled into the package (dist/config-check). */
function extensionLoader(): ExtensionConfigLoader {
  loader ??= require(packagedPath('dist/config-check/index.js', 'build:config-check')) as ExtensionConfigLoader;
  return loader;
}

/** What a value the CloudFormation deployment fills in stands for, so the settings that depend on it are checked. */
function placeholder(variable: string): string | undefined {
  if (/_(URL|ENDPOINT)$/.test(variable)) return 'https://deploy-time.example.com/';
  if (/_ARN$/.test(variable)) return 'arn:aws:secretsmanager:us-east-1:111122223333:secret:deploy-time';
  return undefined;
}

/**
 * Throws when the extension would refuse any of `settings`: they are fed to
 * the extension's own loader, and each warning it gives becomes part of one
 * error naming the option, the value and what is accepted.
 */
export function checkSettings(fn: IConstruct, where: string, settings: Settings): void {
  const env: Record<string, string> = {};
  for (const [name, { value }] of Object.entries(settings)) {
    const known = Token.isUnresolved(value) ? placeholder(name) : value;
    if (known !== undefined) env[name] = known;
  }
  const region = Stack.of(fn).region;
  env.AWS_REGION = Token.isUnresolved(region) ? 'us-east-1' : region;
  const { warnings } = extensionLoader().loadConfig(env);
  if (warnings.length === 0) return;
  const lines = warnings.map((warning) => {
    const variable = Object.keys(settings).find((name) => new RegExp(`^${name}[=: ]`).test(warning));
    return variable === undefined ? warning : `${settings[variable].prop}: ${warning}`;
  });
  throw new ConstructValidationError(
    fn.node.path,
    `${where}: the extension would not accept ${lines.length === 1 ? 'this setting' : 'these settings'}:\n  ${lines.join('\n  ')}`,
  );
}
