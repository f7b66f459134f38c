/**
 * Loads the function handler named by _HANDLER ("dir/file.export" or
 * "file.nested.export") from the task root, as Lambda's Node.js runtime does:
 * file.js, file.mjs, then file.cjs; ES modules by import() (".mjs", or ".js"
 * under a package.json with "type": "module"), CommonJS by require().
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RuntimeError } from './errors.js';

export type Handler = (
  event: unknown,
  context: unknown,
  callback: (err?: unknown, result?: unknown) => void,
) => unknown;

const EXTENSIONS = ['.js', '.mjs', '.cjs'];

export function splitHandler(handler: string): { modulePath: string; exportPath: string[] } {
  const slash = handler.lastIndexOf('/');
  const dir = handler.slice(0, slash + 1);
  const base = handler.slice(slash + 1);
  const dot = base.indexOf('.');
  if (dot <= 0 || dot === base.length - 1) {
    throw new RuntimeError('Runtime.MalformedHandlerName', `Bad handler ${handler}`);
  }
  return { modulePath: dir + base.slice(0, dot), exportPath: base.slice(dot + 1).split('.') };
}

function isEsm(file: string): boolean {
  if (file.endsWith('.mjs')) return true;
  if (file.endsWith('.cjs')) return false;
  let dir = dirname(file);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: string }).type === 'module';
      } catch {
        return false;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return false;
    dir = parent;
  }
}

async function loadModule(taskRoot: string, modulePath: string): Promise<Record<string, unknown>> {
  const base = resolve(taskRoot, modulePath);
  const file = EXTENSIONS.map((ext) => base + ext).find((f) => existsSync(f));
  const req = createRequire(join(taskRoot, 'index.js'));
  try {
    if (!file) return req(modulePath) as Record<string, unknown>;
    if (isEsm(file)) return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    try {
      return req(file) as Record<string, unknown>;
    } catch (err) {
      if ((err as { code?: string }).code !== 'ERR_REQUIRE_ESM') throw err;
      return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    }
  } catch (err) {
    if (err instanceof SyntaxError) {
      throw new RuntimeError('Runtime.UserCodeSyntaxError', `${err.name}: ${err.message}`, err);
    }
    const code = (err as { code?: string }).code;
    if (!file && code === 'MODULE_NOT_FOUND') {
      throw new RuntimeError('Runtime.ImportModuleError', `Error: Cannot find module '${modulePath}'`, err);
    }
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
      throw new RuntimeError('Runtime.ImportModuleError', `Error: ${(err as Error).message}`, err);
    }
    throw err;
  }
}

export async function loadHandler(taskRoot: string, handler: string): Promise<Handler> {
  const { modulePath, exportPath } = splitHandler(handler);
  const mod = await loadModule(taskRoot, modulePath);
  let target: unknown = mod;
  for (const key of exportPath) {
    target = target !== null && typeof target === 'object' ? (target as Record<string, unknown>)[key] : undefined;
    // A CommonJS module imported as ESM keeps its exports under default.
    if (target === undefined && key === exportPath[0] && mod.default && typeof mod.default === 'object') {
      target = (mod.default as Record<string, unknown>)[key];
    }
  }
  if (target === undefined) {
    throw new RuntimeError('Runtime.HandlerNotFound', `${handler} is undefined or not exported`);
  }
  if (typeof target !== 'function') {
    throw new RuntimeError('Runtime.HandlerNotFound', `${handler} is not a function`);
  }
  return target as Handler;
}
