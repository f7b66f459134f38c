/**
 * The one reader of OBSERVED_* variables, for the extension's own settings
 * (config/) and each exporter's (exporters/<name>/config.ts).
 *
 * Every method returns the default when the variable is unset or empty, and
 * when it is set to something unusable adds one warning line of one shape:
 *
 *   NAME=value is not valid; accepted values: <what it takes> (<what is used instead>)
 *
 * Bad configuration never throws. A warning never prints what may be a
 * secret: credentials in a URL are masked, and a bad pair of a key=value list
 * (headers carry API keys) is named by its position, not its text.
 */
export type Env = Readonly<Record<string, string | undefined>>;

/** The value of a setting, and the warnings its variables gave. */
export interface Parsed<T> {
  readonly options: T;
  readonly warnings: string[];
}

const TRUE = new Set(['true', '1', 'yes']);
const FALSE = new Set(['false', '0', 'no']);

export class ConfigReader {
  readonly warnings: string[] = [];

  constructor(readonly env: Env) {}

  /** The trimmed value, or undefined when unset or empty. */
  raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }

  /** Adds the warning for a bad value; `instead` says what is used instead, e.g. "using 5000". */
  warn(name: string, value: string, accepted: string, instead: string): void {
    this.warnings.push(`${name}=${maskCredentials(value)} is not valid; accepted values: ${accepted} (${instead})`);
  }

  /** A warning that is not about one value (a setting that needs another one, say). */
  note(message: string): void {
    this.warnings.push(message);
  }

  /** One of `choices`, case-insensitive. */
  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const lower = raw.toLowerCase() as T;
    if (choices.includes(lower)) return lower;
    this.warn(name, raw, choices.join(', '), `using ${fallback}`);
    return fallback;
  }

  integer(name: string, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (Number.isInteger(value) && value >= min && value <= max) return value;
    this.warn(name, raw, `an integer from ${min} to ${max}`, `using ${fallback}`);
    return fallback;
  }

  /** `true` or `false`, case-insensitive (also `1`/`0` and `yes`/`no`). */
  boolean(name: string, fallback: boolean): boolean {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const lower = raw.toLowerCase();
    if (TRUE.has(lower)) return true;
    if (FALSE.has(lower)) return false;
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

  /** A comma-separated list of names, trimmed, empty entries left out. */
  list(name: string): string[] {
    return (this.raw(name) ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
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
      const pair = decodePair(part);
      if (pair) {
        out.push(pair);
        return;
      }
      this.warnings.push(
        `${name}: pair ${index + 1} of ${parts.length} is not valid; accepted values: comma-separated key=value pairs, percent-encoded (pair ignored)`,
      );
    });
    return out;
  }
}

/** Reads one group of settings from `env` with a reader of its own: for callers that need only that group. */
export function readFrom<T>(env: Env, read: (reader: ConfigReader) => T): Parsed<T> {
  const reader = new ConfigReader(env);
  return { options: read(reader), warnings: reader.warnings };
}

function decodePair(part: string): [string, string] | undefined {
  const eq = part.indexOf('=');
  if (eq <= 0) return undefined;
  try {
    const key = decodeURIComponent(part.slice(0, eq).trim());
    return key === '' ? undefined : [key, decodeURIComponent(part.slice(eq + 1).trim())];
  } catch {
    return undefined;
  }
}

/** `https://user:password@host` -> `https://***@host`: a URL's credentials stay out of the log. */
function maskCredentials(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/i, '$1***@');
}
