/**
 * `cdk synth` of the sample app (cdk.json): the CDK CLI runs the app (tsx),
 * which bundles two observed functions with esbuild, stages the layer and the
 * Grafana provisioner, runs the cdk-nag checks and writes the cloud assembly.
 * Also timed in-process (no CLI, no TypeScript start-up) to show what the
 * constructs themselves cost.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { SampleStack } from '../../examples/sample-app/sample-stack.js';

export interface SynthResult {
  readonly case: string;
  readonly runs: number;
  readonly medianSeconds: number;
  readonly minSeconds: number;
  readonly maxSeconds: number;
}

const root = join(__dirname, '..', '..');

function summarize(name: string, seconds: number[]): SynthResult {
  const sorted = [...seconds].sort((a, b) => a - b);
  const round = (v: number) => Math.round(v * 100) / 100;
  return {
    case: name,
    runs: sorted.length,
    medianSeconds: round(sorted[Math.floor(sorted.length / 2)]),
    minSeconds: round(sorted[0]),
    maxSeconds: round(sorted[sorted.length - 1]),
  };
}

function timeCliSynth(): number {
  const outdir = mkdtempSync(join(tmpdir(), 'observed-synth-'));
  const started = process.hrtime.bigint();
  try {
    execFileSync(join(root, 'node_modules', '.bin', 'cdk'), ['synth', '--quiet', '--output', outdir], {
      cwd: root,
      stdio: 'ignore',
      timeout: 180_000,
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true' },
    });
    return Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function timeInProcessSynth(): number {
  const outdir = mkdtempSync(join(tmpdir(), 'observed-synth-'));
  const started = process.hrtime.bigint();
  try {
    const app = new App({ outdir });
    new SampleStack(app, 'ObservedLambdaSample', { env: { account: '111122223333', region: 'eu-west-1' } });
    app.synth();
    return Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export async function run(options: { quick?: boolean } = {}): Promise<SynthResult[]> {
  const runs = options.quick ? 1 : 3;
  const cli = Array.from({ length: runs }, timeCliSynth);
  const inProcess = Array.from({ length: runs + 1 }, timeInProcessSynth).slice(1); // first run loads modules
  return [
    summarize('npx cdk synth, sample app (CLI + tsx + esbuild + cdk-nag)', cli),
    summarize('sample app construct + synth, in process', inProcess),
  ];
}

if (require.main === module) {
  run({ quick: process.argv.includes('--quick') }).then((results) => console.table(results));
}
