/** Explicit bucket bounds compared by value: a histogram whose bounds change has a new bucket layout. */
export function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
