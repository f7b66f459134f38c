/**
 * Where the function's handler lives, from LAMBDA_TASK_ROOT and _HANDLER, the
 * way the Node.js runtime looks for it: `dir/file.export.path` names the module
 * `dir/file` (tried as an extensionless file, then .js, .mjs, .cjs) and the
 * export path `export.path` inside it. A .js file is an ES module when the
 * nearest package.json says "type": "module".
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

export interface HandlerLocation {
  /** Absolute real path of the handler's module. */
  readonly file: string;
  readonly format: 'commonjs' | 'module';
  /** The export path inside the module, e.g. ['handler'] for `index.handler`. */
  readonly exportPath: readonly string[];
}

export interface HandlerName {
  readonly modulePath: string;
  readonly exportPath: readonly string[];
}

/** `src/app.handlers.main` -> module `src/app`, export path ['handlers', 'main']; undefined when malformed. */
export function parseHandlerName(handler: string | undefined): HandlerName | undefined {
  if (!handler) return undefined;
  const base = basename(handler);
  const moduleRoot = handler.slice(0, handler.length - base.length);
  const dot = base.indexOf('.');
  if (dot <= 0 || dot === base.length - 1) return undefined;
  return { modulePath: moduleRoot + base.slice(0, dot), exportPath: base.slice(dot + 1).split('.') };
}

export function locateHandler(env: NodeJS.ProcessEnv = process.env): HandlerLocation | undefined {
  const name = parseHandlerName(env._HANDLER);
  if (!name) return undefined;
  const base = resolve(env.LAMBDA_TASK_ROOT || process.cwd(), name.modulePath);
  for (const extension of ['', '.js', '.mjs', '.cjs']) {
    const candidate = base + extension;
    if (!isFile(candidate)) continue;
    const file = realpathSync(candidate);
    const format =
      extension === '.mjs' || (extension === '.js' && nearestPackageType(dirname(file)) === 'module')
        ? 'module'
        : 'commonjs';
    return { file, format, exportPath: name.exportPath };
  }
  return undefined;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function nearestPackageType(directory: string): string | undefined {
  for (let dir = directory; ; dir = dirname(dir)) {
    if (basename(dir) === 'node_modules') return undefined;
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        const type = (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown }).type;
        return typeof type === 'string' ? type : undefined;
      } catch {
        return undefined;
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}
