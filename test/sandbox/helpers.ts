/** Fixtures and small helpers of the sandbox tests. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach } from 'vitest';
import {
  LambdaEnvironment,
  type LambdaEnvironmentOptions,
  type SandboxEvent,
  type TelemetryEvent,
} from '../../sandbox/index.js';

export const FIXTURES = join(__dirname, 'fixtures');
export const CJS_CODE = join(FIXTURES, 'code-cjs');
export const ESM_CODE = join(FIXTURES, 'code-esm');
export const TEST_LAYER = join(FIXTURES, 'layer');
export const WRAPPER = join(FIXTURES, 'wrapper', 'wrapper.sh');

/** One line the test extension wrote to its record file. */
export interface ExtRecord {
  t: number;
  ext: string;
  kind: string;
  [key: string]: unknown;
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sandbox-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function readRecords(file: string): ExtRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ExtRecord);
}

/** Every telemetry event the test extension received, in arrival order. */
export function receivedTelemetry(records: ExtRecord[]): TelemetryEvent[] {
  return records.filter((r) => r.kind === 'telemetry').flatMap((r) => r.events as TelemetryEvent[]);
}

export function firstIndex(events: readonly SandboxEvent[], predicate: (e: SandboxEvent) => boolean): number {
  return events.findIndex(predicate);
}

export function platformEvent(e: SandboxEvent, type: string, requestId?: string): boolean {
  if (e.type !== 'telemetry.event') return false;
  const ev = e.data?.event as TelemetryEvent;
  return ev.type === type && (requestId === undefined || (ev.record as { requestId?: string }).requestId === requestId);
}

/** Shuts environments down even when a test failed half-way. */
export class EnvironmentPool {
  private readonly envs: LambdaEnvironment[] = [];
  add(env: LambdaEnvironment): LambdaEnvironment {
    this.envs.push(env);
    return env;
  }
  async shutdownAll(): Promise<void> {
    await Promise.all(this.envs.splice(0).map((e) => e.shutdown().catch(() => undefined)));
  }
}

export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/**
 * Per-test setup of the suites that run the recording test extension: a fresh record file and temp folder for
 * each test, every environment shut down after it. `start` applies the suite's defaults, then the test's.
 */
export function useRecordingEnvironments(defaults: Partial<LambdaEnvironmentOptions>) {
  const pool = new EnvironmentPool();
  let tmp: ReturnType<typeof tempDir> | undefined;
  const suite = {
    pool,
    recordFile: '',
    async start(env: Record<string, string> = {}, options: Partial<LambdaEnvironmentOptions> = {}) {
      return pool.add(
        await LambdaEnvironment.start({
          handler: 'index.handler',
          codeDir: CJS_CODE,
          layers: [TEST_LAYER],
          ...defaults,
          env: { TEST_EXT_RECORD: suite.recordFile, ...env },
          ...options,
        }),
      );
    },
  };
  beforeEach(() => {
    tmp = tempDir();
    suite.recordFile = join(tmp.dir, 'records.jsonl');
  });
  afterEach(async () => {
    await pool.shutdownAll();
    tmp?.cleanup();
  });
  afterAll(() => pool.shutdownAll());
  return suite;
}
