/**
 * The Python and Java runtime pieces that scripts/install/python-runtime.sh and java-runtime.sh put in
 * the tools cache (AWS's runtime interface clients, the OpenTelemetry Python SDK, the Java API and
 * agent), and the layer with the extension as functions of those runtimes get it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { JavaRuntime, PythonRuntime } from '../../sandbox/index.js';
import { buildPortableLayer, LLRT_TOOL_DIR } from '../../scripts/build-portable-layer.js';
import { requireCachedTool } from './tools.js';

const PYTHON_RUNTIME = 'python-runtime-4.2.2-0.66b1';
const JAVA_RUNTIME = 'java-runtime-2.10.1-2.33.1';

/** awslambdaric with the OpenTelemetry Python SDK, or undefined (suite skipped) when not installed. */
export function requirePythonRuntime(): PythonRuntime | undefined {
  const python = requireCachedTool(`${PYTHON_RUNTIME}/venv/bin/python`, 'scripts/install/python-runtime.sh');
  return python ? { kind: 'python', python } : undefined;
}

export interface JavaPieces {
  runtime: JavaRuntime;
  /** Jars a function ships in its lib/ (the OpenTelemetry API). */
  functionLib: string;
  agent: string;
}

export function requireJavaRuntime(): JavaPieces | undefined {
  const dir = requireCachedTool(`${JAVA_RUNTIME}/complete`, 'scripts/install/java-runtime.sh');
  if (!dir) return undefined;
  const base = join(dir, '..');
  return {
    runtime: { kind: 'java', runtimeDir: join(base, 'runtime') },
    functionLib: join(base, 'function-lib'),
    agent: join(base, 'opentelemetry-javaagent.jar'),
  };
}

/**
 * A Java function's deployment directory, as Lambda unpacks a zip into /var/task: the classes compiled
 * from `sourceDir` against the runtime client and the function's libraries, and those libraries in lib/.
 */
export function buildJavaFunction(java: JavaPieces, sourceDir: string, outDir: string): string {
  const sources = readdirSync(sourceDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.java'))
    .map((f) => join(sourceDir, f));
  mkdirSync(join(outDir, 'lib'), { recursive: true });
  const classPath = [join(java.runtime.runtimeDir, 'lib', '*'), join(java.functionLib, '*')].join(':');
  execFileSync('javac', ['-d', outDir, '-cp', classPath, ...sources], { stdio: 'inherit', timeout: 120_000 });
  execFileSync('sh', ['-c', `cp "${java.functionLib}"/*.jar "${join(outDir, 'lib')}"`]);
  return outDir;
}

/** Whether the engine of the layer for runtimes without Node.js is built (suite skipped otherwise). */
export function requirePortableEngine(): boolean {
  return requireCachedTool(`${LLRT_TOOL_DIR}/bin/llrt`, 'scripts/install/llrt.sh') !== undefined;
}

/**
 * The extension's layer for functions whose runtime has no Node.js (dist/layer-portable: the extension on
 * its own engine), built from the current source into `dir`.
 */
export async function layerForAnyRuntime(dir: string): Promise<string> {
  const built = await buildPortableLayer(dir);
  if (!built) throw new Error('the layer for runtimes without Node.js needs its engine: bash scripts/install/llrt.sh');
  return built.layerDir;
}

/** Where `command -v node` finds a node with these environment variables ('' when none). */
export function nodeOnPath(env: Record<string, string>): string {
  try {
    return execFileSync('sh', ['-c', 'command -v node'], { env, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}
