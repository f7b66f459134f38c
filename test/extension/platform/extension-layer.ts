/** Builds the extension from source into a temporary layer directory, as the layer ships it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTestLayer } from '../../support/extension-layer.js';

export async function buildExtensionLayer(): Promise<{ dir: string; cleanup: () => void }> {
  const root = mkdtempSync(join(tmpdir(), 'observed-layer-'));
  const built = await buildTestLayer(root);
  return { dir: built.layerDir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
