/** The layer zip: readable by unzip, executable bit kept, fixed timestamps, same bytes for the same input. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createZip } from '../../scripts/zip.js';
import { requireBinary } from '../support/binaries.js';

const unzip = requireBinary('unzip', 'apt-get install unzip');

describe.skipIf(!unzip)('createZip', () => {
  const dir = mkdtempSync(join(tmpdir(), 'observed-zip-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const script = Buffer.from(`#!/usr/bin/env node\n${'console.log("hello");\n'.repeat(200)}`);
  const entries = [
    { path: 'extensions/observed-lambda', data: script, mode: 0o755 },
    { path: 'extensions/', mode: 0o755 },
    { path: 'README.txt', data: Buffer.from('x'), mode: 0o644 },
  ];

  it('writes an archive unzip extracts, with modes and content intact', () => {
    const zip = createZip(entries);
    const file = join(dir, 'layer.zip');
    writeFileSync(file, zip);
    execFileSync(unzip!, ['-t', '-q', file]);
    const out = join(dir, 'out');
    execFileSync(unzip!, ['-q', file, '-d', out]);
    const exe = join(out, 'extensions', 'observed-lambda');
    expect(readFileSync(exe)).toEqual(script);
    expect(statSync(exe).mode & 0o777).toBe(0o755);
    expect(statSync(join(out, 'README.txt')).mode & 0o777).toBe(0o644);
    const listing = execFileSync(unzip!, ['-Z', file], { encoding: 'utf8' });
    expect(listing).toContain('-rwxr-xr-x');
    expect(listing).toContain('80-Jan-01 00:00');
    // Compressed: the repeated script deflates well.
    expect(zip.length).toBeLessThan(script.length / 4);
  });

  it('gives the same bytes for the same entries in any order', () => {
    expect(createZip(entries).equals(createZip([...entries].reverse()))).toBe(true);
  });
});
