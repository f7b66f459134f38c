/** A small parser of the Prometheus text format as the Pushgateway serves it, for assertions. */
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedText {
  samples: ParsedSample[];
  types: Record<string, string>;
  help: Record<string, string>;
}

function unescapeLabelValue(value: string): string {
  return value.replace(/\\(\\|"|n)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

export function parseText(text: string): ParsedText {
  const out: ParsedText = { samples: [], types: {}, help: {} };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') out.types[meta[2]] = meta[3];
      else out.help[meta[2]] = meta[3].replace(/\\(\\|n)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( \d+)?$/.exec(line);
    if (!m) throw new Error(`unparsable line: ${line}`);
    const labels: Record<string, string> = {};
    const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
    for (const lm of (m[3] ?? '').matchAll(labelRe)) labels[lm[1]] = unescapeLabelValue(lm[2]);
    out.samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

export function find(parsed: ParsedText, name: string, labels: Record<string, string> = {}): ParsedSample[] {
  return parsed.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}
