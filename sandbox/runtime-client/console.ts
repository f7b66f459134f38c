/**
 * The function's console, formatted as Lambda's Node.js runtime formats it:
 * text lines `<time>\t<requestId>\t<LEVEL>\t<message>`, or with
 * AWS_LAMBDA_LOG_FORMAT=JSON one JSON object per call, filtered by
 * AWS_LAMBDA_LOG_LEVEL. Each call is one log record: it goes as one frame to
 * the sandbox's log descriptor when there is one (so multi-line messages stay
 * one record, as with Lambda's telemetry descriptor), else to stdout.
 */
import { writeSync } from 'node:fs';
import { format } from 'node:util';

const LEVELS = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4, FATAL: 5 } as const;
type Level = keyof typeof LEVELS;

const METHODS: [keyof Console, Level][] = [
  ['log', 'INFO'],
  ['info', 'INFO'],
  ['warn', 'WARN'],
  ['error', 'ERROR'],
  ['debug', 'DEBUG'],
  ['trace', 'TRACE'],
];

export interface RuntimeLogger {
  setRequestId(requestId: string | undefined): void;
  write(level: Level, message: string, fields?: Record<string, unknown>): void;
}

function writeFully(fd: number, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) {
    try {
      offset += writeSync(fd, data, offset);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EAGAIN') throw err;
    }
  }
}

export function installConsole(env: NodeJS.ProcessEnv): RuntimeLogger {
  const json = env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON';
  const configured = env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase() as Level | undefined;
  const minLevel = json && configured && configured in LEVELS ? LEVELS[configured] : json ? LEVELS.INFO : LEVELS.TRACE;
  const fd = env._OBSERVED_SANDBOX_LOG_FD ? Number(env._OBSERVED_SANDBOX_LOG_FD) : undefined;
  // The descriptor belongs to this process; child processes must not inherit the variable.
  delete env._OBSERVED_SANDBOX_LOG_FD;
  let requestId: string | undefined;

  const emit = (text: string) => {
    if (fd === undefined) {
      process.stdout.write(`${text}\n`);
      return;
    }
    const payload = Buffer.from(text, 'utf8');
    const frame = Buffer.allocUnsafe(4 + payload.length);
    frame.writeUInt32BE(payload.length, 0);
    payload.copy(frame, 4);
    writeFully(fd, frame);
  };

  const write = (level: Level, message: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS[level] < minLevel) return;
    const timestamp = new Date().toISOString();
    if (json) emit(JSON.stringify({ timestamp, level, requestId, message, ...fields }));
    else emit(`${timestamp}\t${requestId}\t${level}\t${message}`);
  };

  for (const [method, level] of METHODS) {
    (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const fields: Record<string, unknown> = {};
      if (json && args.length === 1 && args[0] instanceof Error) {
        const err = args[0];
        fields.errorType = err.name;
        fields.errorMessage = err.message;
        fields.stackTrace = err.stack?.split('\n') ?? [];
      }
      write(level, format(...args), fields);
    };
  }

  return {
    setRequestId(id) {
      requestId = id;
    },
    write,
  };
}
