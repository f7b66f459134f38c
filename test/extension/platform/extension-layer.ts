/** The extension built from source into a temporary layer directory, as the layer ships it, and the fixture it serves. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaEnvironment, type LambdaEnvironmentOptions } from '../../../sandbox/index.js';
import { buildTestLayer } from '../../support/extension-layer.js';

const PLATFORM_FN = join(__dirname, 'fixtures', 'platform-fn');

export async function buildExtensionLayer(): Promise<{ dir: string; cleanup: () => void }> {
  const root = mkdtempSync(join(tmpdir(), 'observed-layer-'));
  const built = await buildTestLayer(root);
  return { dir: built.layerDir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * Starts the platform-fn fixture (`layers` holds the extension's), the extension flushing at the end of every
 * invocation and logging warnings only; `env` adds its destinations.
 */
export function startPlatformFunction(
  options: Omit<LambdaEnvironmentOptions, 'handler' | 'codeDir'>,
): Promise<LambdaEnvironment> {
  return LambdaEnvironment.start({
    handler: 'index.handler',
    codeDir: PLATFORM_FN,
    ...options,
    env: { OBSERVED_FLUSH: 'end-of-invocation', OBSERVED_LOG_LEVEL: 'warn', ...options.env },
  });
}
