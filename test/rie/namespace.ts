/**
 * Runs test scripts (test/rie/scenario.ts, the sandbox's default-ports run) in mount and network namespaces of
 * their own (`unshare -m -n`, as root): the loopback is brought up, a layer can be bind-mounted on /opt (where
 * Lambda unpacks layers and where RIE looks for extensions), and fixed ports (RIE's 8080, the extension's 4318
 * and 4317) stay private to each run, so runs side by side do not collide.
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

/**
 * Runs a TypeScript script in mount and network namespaces of its own, with `layerDir` on /opt when given, and
 * returns the last line it printed, parsed as JSON.
 */
export async function runInNamespaces<T>(script: string, env: Record<string, string>, layerDir?: string): Promise<T> {
  const shell = [
    'set -e',
    'ip link set lo up',
    ...(layerDir ? ['mkdir -p /opt', 'mount --bind "$OBSERVED_NS_LAYER" /opt'] : []),
    'exec "$OBSERVED_NS_NODE" --import tsx "$OBSERVED_NS_SCRIPT"',
  ].join('\n');
  const { stdout } = await promisify(execFile)(
    'unshare',
    ['--mount', '--net', '--propagation', 'private', 'sh', '-c', shell],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        ...env,
        OBSERVED_NS_LAYER: layerDir ?? '',
        OBSERVED_NS_NODE: process.execPath,
        OBSERVED_NS_SCRIPT: script,
      },
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as T;
}

export function runScenario(layerDir: string, config: ScenarioConfig): Promise<ScenarioResult> {
  return runInNamespaces(join(__dirname, 'scenario.ts'), { OBSERVED_RIE_SCENARIO: JSON.stringify(config) }, layerDir);
}
