/**
 * Java smoke test: builds the Java package with jsii-pacmak (a local Maven
 * repository in dist/jsii/java), and runs test/constructs/java, a Maven
 * project that depends on it and on aws-cdk-lib and synthesizes a stack from
 * Java (SmokeSynth). Maven keeps what it downloads in ~/.m2; the project is
 * built in .tmp/java-smoke. `--skip-build` reuses dist/jsii/java.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(__dirname, '..');
const cdkVersion = (
  JSON.parse(readFileSync(join(root, 'node_modules', 'aws-cdk-lib', 'package.json'), 'utf8')) as { version: string }
).version;
const work = join(root, '.tmp', 'java-smoke');
const MINUTE = 60_000;

function step(title: string, command: string, args: string[], timeout: number, cwd = root): void {
  const started = Date.now();
  console.log(`java smoke: ${title}`);
  execFileSync(command, args, {
    cwd,
    stdio: 'inherit',
    timeout,
    env: { ...process.env, JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1' },
  });
  console.log(`java smoke: ${title} took ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const bin = (name: string) => join(root, 'node_modules', '.bin', name);
if (!process.argv.includes('--skip-build')) {
  rmSync(join(root, 'dist', 'jsii', 'java'), { recursive: true, force: true });
  step('compile (jsii)', bin('jsii'), ['--silence-warnings=reserved-word'], 5 * MINUTE);
  step('package (jsii-pacmak)', bin('jsii-pacmak'), ['--targets', 'java'], 20 * MINUTE);
}

// Maven copies a release from the local repository into ~/.m2 once and never looks again: drop that copy so
// the package just built is the one used.
rmSync(join(homedir(), '.m2', 'repository', 'io', 'github', 'observed-lambda', 'observed-lambda'), {
  recursive: true,
  force: true,
});
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
cpSync(join(root, 'test', 'constructs', 'java'), work, { recursive: true });
const classpath = join(work, 'classpath.txt');
step(
  'compile SmokeSynth (Maven)',
  'mvn',
  [
    '--batch-mode',
    '--quiet',
    `-Djsii.repository=${pathToFileURL(join(root, 'dist', 'jsii', 'java')).href}`,
    `-Dcdk.version=${cdkVersion}`,
    'compile',
    'dependency:build-classpath',
    `-Dmdep.outputFile=${classpath}`,
  ],
  15 * MINUTE,
  work,
);
step(
  'synthesize from Java',
  'java',
  ['-cp', `${join(work, 'target', 'classes')}:${readFileSync(classpath, 'utf8').trim()}`, 'smoke.SmokeSynth'],
  5 * MINUTE,
  work,
);
