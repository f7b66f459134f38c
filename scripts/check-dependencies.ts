/**
 * The dependency rules of this repository, and the check that enforces them
 * (`npm run check:deps`, part of `npm run lint` and so of `npm test`). Read
 * the rules below to learn which code may use which; the checker after them
 * reports every import that breaks one, and exits 1.
 *
 * Why a script and not dependency-cruiser or biome's noRestrictedImports:
 * TypeScript is already installed and `ts.preProcessFile` lists a file's
 * imports (static, dynamic, `require`, `import type`) without type-checking,
 * so the whole tree is checked in well under a second with nothing to install
 * (dependency-cruiser brings dozens of packages and its own rule language).
 * Biome's rule matches import strings, not the files they resolve to, so
 * `../exporters/x.js` from one folder and `../../exporters/x.js` from another
 * would need a pattern each, and "does no I/O" could not be said at all.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';

// ---------------------------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------------------------

/** Code that runs in Lambda or on a user's machine, built into bundles; the CDK library ships them prebuilt. */
const RUNTIME = ['extension-src/', 'instrumentation-src/', 'custom-resources-src/', 'cli-src/'];

/** Folders that must not import one another, whatever the folder inside. */
const BOUNDARIES: readonly { from: string[]; mayNotImport: string[]; why: string }[] = [
  {
    from: RUNTIME,
    mayNotImport: ['lib/'],
    why: 'runtime code is bundled on its own; lib/ is the CDK construct library',
  },
  {
    from: ['lib/'],
    mayNotImport: RUNTIME,
    why: 'the constructs ship the runtime as prebuilt bundles and never load its code',
  },
  {
    from: ['sandbox/'],
    mayNotImport: ['extension-src/', 'instrumentation-src/'],
    why: 'the sandbox runs extensions and functions as black boxes, as Lambda does',
  },
];

/**
 * The extension's modules (folders of extension-src/, and main.ts) and the only ones each may
 * import. Data flows receivers and platform -> pipeline -> exporters -> translate and wire; the
 * neutral modules at the bottom (contracts, queue, env, otlp, wire, self, io) serve them all.
 */
const EXTENSION_MODULES: Record<string, { mayImport: string[]; job: string }> = {
  'main.ts': { mayImport: ['*'], job: 'starts the extension and wires the modules together' },
  lifecycle: {
    mayImport: ['pipeline', 'contracts', 'self-telemetry', 'io'],
    job: 'Extensions API and Telemetry API clients; drives the flush scheduler',
  },
  receiver: {
    mayImport: ['contracts', 'config', 'otlp', 'resource', 'wire', 'self-telemetry', 'io'],
    job: "the function's OTLP over HTTP and gRPC, handed on as OtlpPayload",
  },
  platform: { mayImport: ['contracts', 'otlp', 'resource', 'wire', 'env'], job: 'Telemetry API events -> OTLP' },
  pipeline: {
    mayImport: ['contracts', 'queue', 'config', 'otlp', 'self-telemetry'],
    job: 'buffers, batching and the flush scheduler, in front of the exporters',
  },
  config: {
    mayImport: ['exporters/*/config.ts', 'platform/subscription.ts', 'env', 'self-telemetry', 'otlp'],
    job: "the whole configuration: the extension's own settings and each exporter's",
  },
  exporters: {
    mayImport: ['contracts', 'queue', 'translate', 'otlp', 'resource', 'wire', 'aws', 'env', 'self-telemetry', 'io'],
    job: 'deliver payloads to the backends',
  },
  aws: { mayImport: ['exporters/http.ts', 'env', 'self-telemetry', 'io'], job: 'SigV4, credentials, AWS JSON APIs' },
  translate: { mayImport: ['otlp', 'env'], job: 'OTLP metrics -> Prometheus series (no I/O)' },
  resource: { mayImport: ['otlp', 'wire'], job: 'Lambda resource attributes, added to payloads on the wire' },
  queue: { mayImport: ['contracts', 'otlp'], job: 'the bounded per-signal queue of payloads' },
  contracts: { mayImport: ['otlp'], job: 'what receivers, pipeline and exporters agree on' },
  'self-telemetry': { mayImport: ['contracts', 'otlp', 'resource'], job: "the extension's own log and counters" },
  env: { mayImport: [], job: 'the one reader of OBSERVED_* variables' },
  otlp: { mayImport: ['wire'], job: 'the OTLP data model and its wire formats (no I/O)' },
  wire: { mayImport: [], job: 'the protobuf wire format: varints, tags, lengths, reading and writing (no I/O)' },
  io: { mayImport: [], job: 'engine-neutral sockets: HTTP/1.1 server and client' },
};

/**
 * An exporter (exporters/<name>/) never imports another exporter's folder, nor the receivers. What
 * exporters share lives in exporters/ itself or in these folders of it.
 */
const EXPORTER_FOLDER = /^extension-src\/exporters\/([^/]+)\//;
const SHARED_EXPORTER_FOLDERS = new Set(['transport']);

/** Code that must do no I/O: no node:fs, node:net, node:http, child processes, ... */
const NO_IO = [
  'extension-src/translate/',
  'extension-src/otlp/',
  'extension-src/resource/',
  'extension-src/contracts/',
  'extension-src/queue/',
  'extension-src/env/',
  'extension-src/wire/',
  'extension-src/exporters/prometheus-remote-write/encode.ts',
];
const IO_MODULES = new Set([
  'fs',
  'fs/promises',
  'net',
  'http',
  'https',
  'http2',
  'tls',
  'dgram',
  'dns',
  'dns/promises',
  'child_process',
  'worker_threads',
]);

/**
 * Sockets and HTTP: only io/ (the engine-neutral layer, which runs on LLRT too, an engine without
 * node:http) and the modules that used node:http/net before it existed.
 */
const NETWORK_MODULES = new Set(['net', 'http', 'https', 'http2']);
const MAY_USE_NETWORK = [
  'extension-src/io/',
  'extension-src/exporters/http.ts',
  'extension-src/receiver/http/server.ts',
  'extension-src/receiver/grpc/server.ts',
  'extension-src/lifecycle/telemetry-listener.ts',
  'extension-src/lifecycle/extensions-api.ts',
];

// ---------------------------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------------------------

const ROOT = join(__dirname, '..');
const SOURCE_FOLDERS = ['extension-src', 'instrumentation-src', 'custom-resources-src', 'cli-src', 'lib', 'sandbox'];
const SOURCE_FILE = /\.(ts|mts|cts|js|mjs|cjs)$/;
const BUILTINS = new Set(builtinModules);

function listFiles(folder: string): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(join(ROOT, folder), { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = `${folder}/${entry.name}`;
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : listFiles(path);
    return SOURCE_FILE.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

type Target = { kind: 'file'; path: string } | { kind: 'builtin'; name: string } | { kind: 'package' };

function resolveImport(from: string, specifier: string, files: ReadonlySet<string>): Target {
  if (specifier.startsWith('node:')) return { kind: 'builtin', name: specifier.slice(5) };
  if (!specifier.startsWith('.')) {
    return BUILTINS.has(specifier) ? { kind: 'builtin', name: specifier } : { kind: 'package' };
  }
  const base = relative(ROOT, join(ROOT, dirname(from), specifier));
  const stem = base.replace(/\.(js|mjs|cjs)$/, '');
  for (const candidate of [base, `${stem}.ts`, `${stem}.mts`, `${stem}.cts`, `${stem}.d.ts`, `${base}/index.ts`]) {
    if (files.has(candidate)) return { kind: 'file', path: candidate };
  }
  return { kind: 'file', path: base };
}

/** The extension module a file belongs to: its folder under extension-src/, or the file at the top. */
function extensionModule(path: string): string | undefined {
  const match = /^extension-src\/([^/]+)/.exec(path);
  return match?.[1];
}

function matches(path: string, allowed: string): boolean {
  if (allowed === '*') return true;
  const full = `extension-src/${allowed}`;
  if (allowed.includes('*')) {
    const pattern = new RegExp(`^${full.replace(/\./g, '\\.').replace(/\*/g, '[^/]+')}$`);
    return pattern.test(path);
  }
  return path === full || path.startsWith(`${full}/`);
}

const startsWithAny = (path: string, prefixes: readonly string[]) => prefixes.some((p) => path.startsWith(p));

function violations(from: string, target: Target): string[] {
  const found: string[] = [];
  if (target.kind === 'builtin') {
    if (startsWithAny(from, NO_IO) && IO_MODULES.has(target.name)) {
      found.push(`node:${target.name}: this module does no I/O`);
    }
    if (
      from.startsWith('extension-src/') &&
      NETWORK_MODULES.has(target.name) &&
      !startsWithAny(from, MAY_USE_NETWORK)
    ) {
      found.push(`node:${target.name}: sockets and HTTP go through extension-src/io/ (it runs on LLRT too)`);
    }
    return found;
  }
  if (target.kind !== 'file') return found;
  const to = target.path;
  for (const boundary of BOUNDARIES) {
    if (startsWithAny(from, boundary.from) && startsWithAny(to, boundary.mayNotImport)) {
      found.push(`${to}: ${boundary.why}`);
    }
  }
  const fromModule = extensionModule(from);
  const toModule = extensionModule(to);
  if (fromModule && toModule && fromModule !== toModule && EXTENSION_MODULES[fromModule] !== undefined) {
    const rule = EXTENSION_MODULES[fromModule];
    if (!rule.mayImport.some((allowed) => matches(to, allowed))) {
      found.push(`${to}: ${fromModule}/ may import only ${rule.mayImport.join(', ') || 'nothing of the extension'}`);
    }
  }
  const fromExporter = EXPORTER_FOLDER.exec(from)?.[1];
  const toExporter = EXPORTER_FOLDER.exec(to)?.[1];
  if (fromExporter && toExporter && fromExporter !== toExporter && !SHARED_EXPORTER_FOLDERS.has(toExporter)) {
    found.push(`${to}: an exporter never imports another exporter (shared code goes in extension-src/exporters/)`);
  }
  if (fromExporter && toModule === 'receiver') found.push(`${to}: exporters never import the receivers`);
  return found;
}

function main(): void {
  const files = SOURCE_FOLDERS.flatMap(listFiles);
  const known = new Set(files);
  for (const module of new Set(files.map(extensionModule))) {
    if (module && EXTENSION_MODULES[module] === undefined) {
      console.error(`extension-src/${module}: a module without a rule; add it to EXTENSION_MODULES in ${__filename}`);
      process.exitCode = 1;
    }
  }
  let count = 0;
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      for (const problem of violations(file, resolveImport(file, fileName, known))) {
        console.error(`${file} imports ${problem}`);
        count++;
      }
    }
  }
  if (count > 0) {
    console.error(`${count} import(s) break the dependency rules (${relative(ROOT, __filename)})`);
    process.exitCode = 1;
  }
}

main();
