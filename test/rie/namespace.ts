/**
 * Starts test/rie/scenario.ts in mount and network namespaces of its own (`unshare -m -n`, as root): its
 * loopback is brought up, the layer is bind-mounted on /opt (where Lambda unpacks layers and where RIE
 * looks for extensions), and fixed ports (RIE's 8080, the extension's 4318 and 4317) stay private to it.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findBinary } from '../support/binaries.js';
import type { ScenarioConfig, ScenarioResult } from './scenario.js';

const ROOT = join(__dirname, '..', '..');

/** Why namespaces cannot be used here, or undefined when they can. */
export function namespacesUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'the RIE suite needs root (unshare -m -n, mount --bind on /opt)';
  for (const tool of ['unshare', 'ip', 'mount']) {
    if (!findBinary(tool)) return `${tool} is not on PATH (util-linux, iproute2)`;
  }
  return undefined;
}

export async function runScenario(layerDir: string, config: ScenarioConfig): Promise<ScenarioResult> {
  const script = [
    'set -e',
    'ip link set lo up',
    'mkdir -p /opt',
    'mount --bind "$OBSERVED_RIE_LAYER" /opt',
    `exec "$OBSERVED_RIE_NODE" --import tsx ${JSON.stringify(join(__dirname, 'scenario.ts'))}`,
  ].join('\n');
  const { stdout } = await promisify(execFile)(
    'unshare',
    ['--mount', '--net', '--propagation', 'private', 'sh', '-c', script],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        OBSERVED_RIE_LAYER: layerDir,
        OBSERVED_RIE_NODE: process.execPath,
        OBSERVED_RIE_SCENARIO: JSON.stringify(config),
      },
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as ScenarioResult;
}
