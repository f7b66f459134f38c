/**
 * Functions of Lambda's other managed runtimes, run through AWS's own runtime interface clients:
 * Python (`awslambdaric`) and Java (`aws-lambda-java-runtime-interface-client`). Each starts from a
 * bootstrap like the managed runtime's own (`sandbox/bootstrap/<kind>`, reading `_HANDLER` when it
 * runs, so an AWS_LAMBDA_EXEC_WRAPPER may change it), with the language's interpreter first on PATH,
 * as /var/lang/bin is in Lambda, and no Node.js anywhere on PATH.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';

export interface PythonRuntime {
  readonly kind: 'python';
  /** A Python interpreter that can import awslambdaric (e.g. a virtual environment's bin/python). */
  readonly python: string;
}

export interface JavaRuntime {
  readonly kind: 'java';
  /** Directory whose lib/*.jar are the runtime interface client and its dependencies (LAMBDA_RUNTIME_DIR). */
  readonly runtimeDir: string;
  /** The java executable; default the one on the host's PATH. */
  readonly java?: string;
}

export type ManagedRuntime = PythonRuntime | JavaRuntime;

/** How the environment starts a managed runtime and what it tells the function about it. */
export interface RuntimeLaunch {
  /** The bootstrap (started through AWS_LAMBDA_EXEC_WRAPPER when that is set). */
  readonly command: string[];
  /** First on PATH: the interpreter's directory. */
  readonly binDir: string;
  readonly runtimeDir: string;
  /** AWS_EXECUTION_ENV, e.g. AWS_Lambda_python3.11. */
  readonly executionEnv: string;
  /** platform.initStart's runtimeVersion, e.g. python:3.11.v7. */
  readonly runtimeVersion: string;
  /** Variables the managed runtime sets (the caller's env wins). */
  readonly env: Record<string, string>;
}

const BOOTSTRAP_DIR = join(__dirname, 'bootstrap');
const versions = new Map<string, string>();

function askOnce(key: string, ask: () => string): string {
  let found = versions.get(key);
  if (!found) {
    found = ask();
    versions.set(key, found);
  }
  return found;
}

/** What the command prints on stdout and stderr (java -version prints on stderr). */
function run(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) {
    throw new Error(`${command} does not run: ${r.error?.message ?? r.stderr.split('\n')[0]}`);
  }
  return r.stdout + r.stderr;
}

function which(name: string): string {
  const found = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  if (!found) throw new Error(`${name} is not on PATH`);
  return found;
}

export function launchFor(runtime: ManagedRuntime, layers: string[], codeDir: string): RuntimeLaunch {
  if (runtime.kind === 'python') {
    // The venv's python links to the base interpreter; its own directory must come first so the venv applies.
    const python = resolve(runtime.python);
    const version = askOnce(`python:${python}`, () =>
      run(python, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])']).trim(),
    );
    const [major, minor, patch] = version.split('.');
    const sitePackages = `python/lib/python${major}.${minor}/site-packages`;
    return {
      command: [join(BOOTSTRAP_DIR, 'python')],
      binDir: dirname(python),
      runtimeDir: BOOTSTRAP_DIR,
      executionEnv: `AWS_Lambda_python${major}.${minor}`,
      runtimeVersion: `python:${major}.${minor}.v${patch}`,
      // Lambda's sys.path: the function's code, then the layers' python/lib/pythonX.Y/site-packages and python/.
      env: {
        PYTHONPATH: [codeDir, ...layers.flatMap((l) => [join(l, sitePackages), join(l, 'python')])].join(delimiter),
      },
    };
  }
  const java = realpathSync(runtime.java ?? which('java'));
  const printed = askOnce(`java:${java}`, () => run(java, ['-version']));
  const version = /version "([^"]+)"/.exec(printed)?.[1] ?? '0';
  const major = version.split(/[.+-]/)[0];
  return {
    command: [join(BOOTSTRAP_DIR, 'java')],
    binDir: dirname(java),
    runtimeDir: resolve(runtime.runtimeDir),
    executionEnv: `AWS_Lambda_java${major}`,
    runtimeVersion: `java:${major}.v${version.split('.')[2] ?? '0'}`,
    env: {},
  };
}
