/**
 * Readers for OBSERVED_* variables. Each one returns the default when the
 * variable is unset, and when it is set to something unusable it adds one
 * warning line that names the variable, the value, the accepted values and
 * what is used instead. Bad configuration never throws.
 */
export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigReader {
  readonly warnings: string[] = [];

  constructor(private readonly env: Env) {}

  /** The trimmed value, or undefined when unset or empty. */
  raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }

  warn(name: string, value: string, accepted: string, instead: string): void {
    this.warnings.push(`${name}=${value} is not valid; accepted values: ${accepted} (${instead})`);
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const lower = raw.toLowerCase() as T;
    if (choices.includes(lower)) return lower;
    this.warn(name, raw, choices.join(', '), `using ${fallback}`);
    return fallback;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (Number.isInteger(value) && value >= min && value <= max) return value;
    this.warn(name, raw, `an integer from ${min} to ${max}`, `using ${fallback}`);
    return fallback;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.raw(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    this.warn(name, raw, 'true, false', `using ${fallback}`);
    return fallback;
  }

  /** An http(s) URL; undefined (with a warning saying what is off) when unset or invalid. */
  url(name: string, example: string, whenInvalid: string): URL | undefined {
    const raw = this.raw(name);
    if (raw === undefined) return undefined;
    try {
      const url = new URL(raw);
      if (url.protocol === 'http:' || url.protocol === 'https:') return url;
    } catch {
      // Reported below.
    }
    this.warn(name, raw, `an http(s) URL such as ${example}`, whenInvalid);
    return undefined;
  }

  /**
   * `key=value,key2=value2`, as OTEL_EXPORTER_OTLP_HEADERS: keys and values
   * percent-decoded and trimmed; a malformed pair is skipped with a warning.
   */
  keyValues(name: string): [string, string][] {
    const raw = this.raw(name);
    if (raw === undefined) return [];
    const out: [string, string][] = [];
    const parts = raw.split(',');
    parts.forEach((part, index) => {
      if (part.trim() === '') return;
      const eq = part.indexOf('=');
      let pair: [string, string] | undefined;
      if (eq > 0) {
        try {
          pair = [decodeURIComponent(part.slice(0, eq).trim()), decodeURIComponent(part.slice(eq + 1).trim())];
        } catch {
          pair = undefined;
        }
      }
      if (pair && pair[0] !== '') {
        out.push(pair);
        return;
      }
      // The text may hold a secret: say where the bad pair is, not what it holds.
      this.warnings.push(
        `${name}: pair ${index + 1} of ${parts.length} is not valid; accepted values: comma-separated key=value pairs, percent-encoded (pair ignored)`,
      );
    });
    return out;
  }
}
