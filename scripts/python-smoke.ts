/**
 * Python smoke test: builds the Python package with jsii-pacmak, installs it
 * with aws-cdk-lib into a virtual environment kept in .tmp/python-smoke
 * (created once per aws-cdk-lib version), and runs
 * test/constructs/python/smoke_synth.py, which imports the package and
 * synthesizes a stack. `--skip-build` reuses dist/jsii/python.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');
const cdkVersion = (
  JSON.parse(readFileSync(join(root, 'node_modules', 'aws-cdk-lib', 'package.json'), 'utf8')) as {
    version: string;
  }
).version;
const venvDir = join(root, '.tmp', 'python-smoke', 'venv');
const stamp = join(venvDir, 'observed-stamp');
const python = join(venvDir, 'bin', 'python');
const MINUTE = 60_000;

function step(title: string, command: string, args: string[], timeout: number): void {
  const started = Date.now();
  console.log(`python smoke: ${title}`);
  execFileSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    timeout,
    env: { ...process.env, JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1' },
  });
  console.log(`python smoke: ${title} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const bin = (name: string) => join(root, 'node_modules', '.bin', name);
if (!process.argv.includes('--skip-build')) {
  rmSync(join(root, 'dist', 'jsii', 'python'), { recursive: true, force: true });
  step('compile (jsii)', bin('jsii'), ['--silence-warnings=reserved-word'], 5 * MINUTE);
  step('package (jsii-pacmak)', bin('jsii-pacmak'), ['--targets', 'python'], 5 * MINUTE);
}
const wheels = readdirSync(join(root, 'dist', 'jsii', 'python')).filter((f) => f.endsWith('.whl'));
if (wheels.length !== 1)
  throw new Error(`expected one wheel in dist/jsii/python, found ${wheels.join(', ') || 'none'}`);

if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== cdkVersion) {
  rmSync(venvDir, { recursive: true, force: true });
  mkdirSync(venvDir, { recursive: true });
  step('virtual environment', 'python3', ['-m', 'venv', venvDir], 2 * MINUTE);
  step(
    `install aws-cdk-lib ${cdkVersion}`,
    python,
    ['-m', 'pip', 'install', '-q', `aws-cdk-lib==${cdkVersion}`],
    5 * MINUTE,
  );
  writeFileSync(stamp, cdkVersion);
}
step(
  'install observed-lambda wheel',
  python,
  ['-m', 'pip', 'install', '-q', '--force-reinstall', '--no-deps', join(root, 'dist', 'jsii', 'python', wheels[0])],
  2 * MINUTE,
);
step('synthesize from Python', python, [join(root, 'test', 'constructs', 'python', 'smoke_synth.py')], 5 * MINUTE);
