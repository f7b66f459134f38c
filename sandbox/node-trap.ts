/**
 * Proof that a layer's extensions never run Node.js: a directory with `node`
 * (and `nodejs`) commands that only record who ran them and fail, put first on
 * the extensions' PATH in front of a PATH without any real node. Anything
 * that looks node up (`#!/usr/bin/env node`, spawn('node')) lands here.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NodeTrap {
  /** Directory to put first on PATH. */
  readonly dir: string;
  /** Every recorded run: the arguments node was given. */
  runs(): string[];
}

export function createNodeTrap(): NodeTrap {
  const dir = mkdtempSync(join(tmpdir(), 'observed-node-trap-'));
  const bin = join(dir, 'bin');
  const record = join(dir, 'runs.log');
  mkdirSync(bin);
  writeFileSync(record, '');
  for (const name of ['node', 'nodejs']) {
    const file = join(bin, name);
    writeFileSync(
      file,
      `#!/bin/sh\necho "${name} $*" >> '${record}'\necho "sandbox: ${name} is not available to extensions here" >&2\nexit 127\n`,
    );
    chmodSync(file, 0o755);
  }
  return {
    dir: bin,
    runs: () =>
      readFileSync(record, 'utf8')
        .split('\n')
        .filter((line) => line !== ''),
  };
}
