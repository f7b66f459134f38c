import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LAYER_PARTS, packagedLayer } from '../../lib/package-paths.js';

describe('the packaged layer folder', () => {
  const roots: string[] = [];
  afterEach(() => {
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  });
  function packageWith(parts: readonly string[]): string {
    const root = mkdtempSync(join(tmpdir(), 'observed-package-'));
    roots.push(root);
    for (const part of parts) {
      const path = join(root, 'dist', 'layer', part);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, '');
    }
    return root;
  }

  it('is taken with every part', () => {
    const root = packageWith(LAYER_PARTS);
    expect(packagedLayer(root)).toBe(join(root, 'dist', 'layer'));
  });

  it('is refused when built with the extension alone, naming what is missing and the command that builds it', () => {
    const root = packageWith(['extensions/observed-lambda']);
    expect(() => packagedLayer(root)).toThrow(
      /lacks observed-instrument, observed-instrument\.d\/preload\.cjs, .*run `npm run build:layer`/,
    );
  });

  it('is refused when missing', () => {
    const root = mkdtempSync(join(tmpdir(), 'observed-package-'));
    roots.push(root);
    expect(() => packagedLayer(root)).toThrow(/lacks everything.*npm run build:layer/);
  });

  it('is complete in this checkout after the build', () => {
    expect(() => packagedLayer()).not.toThrow();
  });
});
