/** The pass/fail table the validator prints: one row per series, expected and actual values. */

export interface Row {
  readonly query: string;
  readonly expected: number;
  /** The value found, or a word saying why there is none ("no data", "3 series", ...). */
  readonly actual: number | string;
  readonly pass: boolean;
}

export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

export function formatTable(rows: readonly Row[]): string {
  const cells = rows.map((r) => [
    r.pass ? 'PASS' : 'FAIL',
    r.query,
    formatNumber(r.expected),
    typeof r.actual === 'number' ? formatNumber(r.actual) : r.actual,
  ]);
  const header = ['RESULT', 'SERIES', 'EXPECTED', 'ACTUAL'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
