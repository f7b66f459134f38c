/**
 * The extension's log lines. Lambda sends an extension's stdout to the
 * function's log group, so every line is prefixed with the extension's name
 * and level, stays on one line, and problems that repeat (a backend down on
 * every invocation) are said once per key rather than on every flush.
 */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** Logs only the first time `key` is seen (keys are kept in a bounded set). */
  once(key: string, level: LogLevel, message: string): void;
  /** Whether a debug line would be written; to skip building costly messages. */
  readonly debugEnabled: boolean;
  /**
   * A logger for one part (an exporter): its lines start with `<name>: `, and its `once`
   * keys are its own, so two parts that use the same key are each heard once.
   */
  child(name: string): Logger;
}

const MAX_ONCE_KEYS = 1_000;

/** One line to stdout (console.log where the engine has no process.stdout, as LLRT). */
function writeLine(line: string): void {
  if (process.stdout?.write) process.stdout.write(`${line}\n`);
  else console.log(line);
}

export function createLogger(level: LogLevel = 'info', write: (line: string) => void = writeLine): Logger {
  const threshold = ORDER[level];
  // One set for the logger and its children: the bound holds for the whole extension.
  const seen = new Set<string>();
  const build = (prefix: string): Logger => {
    const log = (at: LogLevel, message: string) => {
      if (ORDER[at] < threshold) return;
      write(`[observed-lambda] ${at.toUpperCase()} ${prefix}${message.replace(/\s*\n\s*/g, ' ')}`);
    };
    return {
      debug: (m) => log('debug', m),
      info: (m) => log('info', m),
      warn: (m) => log('warn', m),
      error: (m) => log('error', m),
      once(key, at, message) {
        const scoped = `${prefix}${key}`;
        if (seen.has(scoped)) return;
        if (seen.size >= MAX_ONCE_KEYS) seen.clear();
        seen.add(scoped);
        log(at, message);
      },
      debugEnabled: threshold <= ORDER.debug,
      child: (name) => build(`${prefix}${name}: `),
    };
  };
  return build('');
}

/** A logger that writes nothing, for tests and benchmarks. */
export const silentLogger: Logger = createLogger('error', () => {});
