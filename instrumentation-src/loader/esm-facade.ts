/**
 * ES module handlers: a module namespace cannot be changed, so the handler's
 * URL is served by a small facade module instead. It re-exports everything
 * the real module exports (loaded under a marked URL) and replaces the
 * handler's export with the wrapped function, which it takes from the
 * process-wide slot the preload filled. Without that slot it changes nothing.
 */

export const WRAP_SLOT_KEY = 'observed-lambda.wrap-handler';
/** Appended to the handler's URL to load the real module behind the facade. */
export const ORIGINAL_MARK = 'observed-original';

export function originalUrl(url: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${ORIGINAL_MARK}`;
}

export function facadeSource(url: string, exportPath: readonly string[]): string {
  const original = JSON.stringify(originalUrl(url));
  const lines = [
    `import * as original from ${original};`,
    `export * from ${original};`,
    `const wrap = globalThis[Symbol.for(${JSON.stringify(WRAP_SLOT_KEY)})] ?? ((handler) => handler);`,
  ];
  if (exportPath.length === 1 && exportPath[0] === 'default') {
    lines.push('export default wrap(original.default);');
    return lines.join('\n');
  }
  if (exportPath.length === 1) {
    lines.push(`const wrapped = wrap(original[${JSON.stringify(exportPath[0])}]);`);
    lines.push(`export { wrapped as ${JSON.stringify(exportPath[0])} };`);
  } else {
    // A nested handler lives in an ordinary object that can be changed in place.
    const holderPath = exportPath
      .slice(0, -1)
      .map((key) => `?.[${JSON.stringify(key)}]`)
      .join('');
    const last = JSON.stringify(exportPath[exportPath.length - 1]);
    lines.push(
      `try { const holder = original${holderPath}; if (holder && typeof holder[${last}] === 'function') holder[${last}] = wrap(holder[${last}]); } catch {}`,
    );
  }
  // `export *` leaves out the default export; an expression keeps importers of it working whether or not it exists.
  lines.push('export default original.default;');
  return lines.join('\n');
}
