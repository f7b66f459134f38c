/**
 * The environment variables Lambda sets for the function and for extensions,
 * and where layer content lives. Layers are not merged at /opt (which we
 * cannot write): each layer directory is used in place, its `extensions/`
 * executables are started with their real path, and OBSERVED_SANDBOX_OPT
 * lists the layer directories (path-delimited) for code that wants "/opt".
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { RuntimeLaunch } from './managed-runtimes.js';
import { pathWithoutNode } from './path-without-node.js';

export interface LambdaEnvInput {
  functionName: string;
  functionVersion: string;
  memorySizeMb: number;
  region: string;
  handler: string;
  codeDir: string;
  layers: string[];
  runtimeApi: string;
  runtimeDir: string;
  logGroupName: string;
  logStreamName: string;
  nodeMajor: number;
  /** Directory of the Node.js binary that runs the function: first on PATH, as /var/lang/bin in Lambda. */
  nodeDir: string;
  /** Set for a function of another runtime (Python, Java): its launch replaces Node.js, and PATH has no node. */
  managed?: RuntimeLaunch;
  receiverPort: number;
  receiverGrpcPort: number;
  /** The receiver keeps its default ports: the variables that move it are not set. */
  defaultReceiverPorts?: boolean;
  userEnv: Record<string, string>;
}

/**
 * Variables Lambda does not give extensions (its Extensions API documentation
 * lists them); everything else matches the function's environment.
 */
const NOT_FOR_EXTENSIONS = [
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_XRAY_CONTEXT_MISSING',
  'AWS_XRAY_DAEMON_ADDRESS',
  'LAMBDA_RUNTIME_DIR',
  'LAMBDA_TASK_ROOT',
  '_AWS_XRAY_DAEMON_ADDRESS',
  '_AWS_XRAY_DAEMON_PORT',
  '_HANDLER',
];

/** `YYYY/MM/DD/[version]<32 hex>`, Lambda's log stream name format. */
export function logStreamName(version: string, now = new Date()): string {
  const d = now.toISOString().slice(0, 10).replace(/-/g, '/');
  return `${d}/[${version}]${randomBytes(16).toString('hex')}`;
}

export function functionEnv(i: LambdaEnvInput): Record<string, string> {
  const layerPaths = (sub: string[]) => i.layers.flatMap((l) => sub.map((s) => join(l, s)));
  const hostPath = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';
  const languageEnv: Record<string, string> = i.managed
    ? {
        PATH: [i.managed.binDir, ...layerPaths(['bin']), pathWithoutNode(hostPath)].join(delimiter),
        ...i.managed.env,
      }
    : {
        PATH: [i.nodeDir, ...layerPaths(['bin']), hostPath].join(delimiter),
        NODE_PATH: [
          ...layerPaths([`nodejs/node${i.nodeMajor}/node_modules`, 'nodejs/node_modules']),
          i.runtimeDir,
          i.codeDir,
        ].join(delimiter),
      };
  const defaults: Record<string, string> = {
    ...languageEnv,
    LD_LIBRARY_PATH: [...layerPaths(['lib']), process.env.LD_LIBRARY_PATH].filter(Boolean).join(delimiter),
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    ...(i.defaultReceiverPorts
      ? {}
      : {
          OBSERVED_RECEIVER_PORT: String(i.receiverPort),
          OBSERVED_RECEIVER_GRPC_PORT: String(i.receiverGrpcPort),
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${i.receiverPort}`,
        }),
  };
  if (i.userEnv.OBSERVED_RECEIVER_PORT && !i.userEnv.OTEL_EXPORTER_OTLP_ENDPOINT) {
    // The caller moved the receiver: the function's SDK follows it.
    defaults.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${i.userEnv.OBSERVED_RECEIVER_PORT}`;
  }
  const reserved: Record<string, string> = {
    _HANDLER: i.handler,
    AWS_REGION: i.region,
    AWS_DEFAULT_REGION: i.region,
    AWS_EXECUTION_ENV: i.managed?.executionEnv ?? `AWS_Lambda_nodejs${i.nodeMajor}.x`,
    AWS_LAMBDA_FUNCTION_NAME: i.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: i.functionVersion,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(i.memorySizeMb),
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: i.logGroupName,
    AWS_LAMBDA_LOG_STREAM_NAME: i.logStreamName,
    AWS_LAMBDA_RUNTIME_API: i.runtimeApi,
    LAMBDA_TASK_ROOT: i.codeDir,
    LAMBDA_RUNTIME_DIR: i.runtimeDir,
    OBSERVED_SANDBOX_OPT: i.layers.join(delimiter),
  };
  return { ...defaults, ...i.userEnv, ...reserved };
}

export function extensionEnv(functionEnvironment: Record<string, string>): Record<string, string> {
  const env = { ...functionEnvironment };
  for (const name of NOT_FOR_EXTENSIONS) delete env[name];
  return env;
}

export interface ExtensionExecutable {
  name: string;
  path: string;
  layer: string;
}

/** Every executable file in each layer's `extensions/` folder (Lambda's /opt/extensions/*), by name. */
export function findExtensions(layers: string[]): ExtensionExecutable[] {
  const found: ExtensionExecutable[] = [];
  for (const layer of layers) {
    const dir = join(layer, 'extensions');
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      const path = join(dir, name);
      try {
        if (!statSync(path).isFile()) continue;
        accessSync(path, constants.X_OK);
      } catch {
        continue;
      }
      found.push({ name, path, layer });
    }
  }
  return found;
}
