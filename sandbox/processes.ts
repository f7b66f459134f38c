/**
 * Process management: each runtime and extension process is started in its
 * own process group (its own session), so the whole group, children included,
 * can be frozen (SIGSTOP), thawed (SIGCONT) and killed without touching the
 * test runner. Output is captured line by line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type ProcessKind = 'runtime' | 'extension';
export type OutputStream = 'stdout' | 'stderr';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (ENOENT, EACCES...). */
  spawnError?: string;
  timeMs: number;
}

export interface ManagedProcessOptions {
  name: string;
  kind: ProcessKind;
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** Each complete line written to stdout or stderr. */
  onLine?: (stream: OutputStream, line: string) => void;
  /** Open fd 3 as a pipe carrying length-prefixed log records (the runtime's console). */
  logRecordFd?: boolean;
  onLogRecord?: (record: string) => void;
  /** Bytes of output kept per stream for assertions; older output is dropped. */
  outputLimitBytes?: number;
}

/**
 * Every live process group, so a parent that goes away never leaves (possibly
 * stopped) orphans behind: an exit hook kills them when this process exits
 * normally, and a small watchdog shell kills them within a second when it
 * dies any other way (SIGKILL included). The watchdog reads the groups from a
 * file that is rewritten whenever the set changes.
 */
const liveGroups = new Set<number>();
let groupsFile: string | undefined;

function installGuards(): void {
  if (groupsFile) return;
  groupsFile = join(tmpdir(), `observed-sandbox-groups-${process.pid}`);
  writeFileSync(groupsFile, '');
  process.on('exit', () => {
    for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
    try {
      unlinkSync(groupsFile!);
    } catch {
      // already gone
    }
  });
  const script =
    'while kill -0 "$0" 2>/dev/null; do sleep 1; done; ' +
    'for g in $(cat "$1" 2>/dev/null); do kill -KILL "-$g" 2>/dev/null; done; rm -f "$1"';
  const watchdog = spawn('sh', ['-c', script, String(process.pid), groupsFile], { detached: true, stdio: 'ignore' });
  watchdog.on('error', () => undefined);
  watchdog.unref();
}

function trackGroup(pgid: number, live: boolean): void {
  if (live) liveGroups.add(pgid);
  else liveGroups.delete(pgid);
  if (groupsFile) writeFileSync(groupsFile, [...liveGroups].join('\n'));
}

class LineSplitter {
  private rest = '';
  constructor(private readonly emit: (line: string) => void) {}
  push(chunk: string): void {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) this.emit(line.endsWith('\r') ? line.slice(0, -1) : line);
  }
  end(): void {
    if (this.rest) this.emit(this.rest);
    this.rest = '';
  }
}

/** Parses fd-3 frames: 4-byte big-endian length, then that many bytes of UTF-8. */
class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);
  constructor(private readonly emit: (record: string) => void) {}
  push(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    while (this.buffer.length >= 4) {
      const size = this.buffer.readUInt32BE(0);
      if (this.buffer.length < 4 + size) break;
      this.emit(this.buffer.subarray(4, 4 + size).toString('utf8'));
      this.buffer = this.buffer.subarray(4 + size);
    }
  }
}

export class ManagedProcess {
  readonly name: string;
  readonly kind: ProcessKind;
  readonly pid: number | undefined;
  readonly startedMs = Date.now();
  /** Resolves once the process has exited (or failed to start). */
  readonly exited: Promise<ExitInfo>;
  exitInfo: ExitInfo | undefined;
  private readonly child: ChildProcess;
  private readonly output: Record<OutputStream, string> = { stdout: '', stderr: '' };
  private readonly outputLimit: number;
  private stopped = false;

  constructor(options: ManagedProcessOptions) {
    installGuards();
    this.name = options.name;
    this.kind = options.kind;
    this.outputLimit = options.outputLimitBytes ?? 4 * 1024 * 1024;
    this.child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', options.logRecordFd ? 'pipe' : 'ignore'],
    });
    this.pid = this.child.pid;
    if (this.pid) trackGroup(this.pid, true);

    for (const stream of ['stdout', 'stderr'] as const) {
      const splitter = new LineSplitter((line) => options.onLine?.(stream, line));
      const readable = this.child[stream];
      readable?.setEncoding('utf8');
      readable?.on('data', (chunk: string) => {
        this.append(stream, chunk);
        splitter.push(chunk);
      });
      readable?.on('end', () => splitter.end());
    }
    const recordPipe = options.logRecordFd ? this.child.stdio[3] : null;
    if (recordPipe && 'on' in recordPipe) {
      const frames = new FrameReader((record) => {
        this.append('stdout', `${record}\n`);
        options.onLogRecord?.(record);
      });
      recordPipe.on('data', (chunk: Buffer) => frames.push(chunk));
      recordPipe.on('error', () => undefined);
    }

    this.exited = new Promise<ExitInfo>((resolve) => {
      let exitTimeMs = 0;
      const finish = (info: Omit<ExitInfo, 'timeMs'>) => {
        if (this.exitInfo) return;
        this.exitInfo = { ...info, timeMs: exitTimeMs || Date.now() };
        if (this.pid) trackGroup(this.pid, false);
        resolve(this.exitInfo);
      };
      this.child.on('error', (err) => finish({ code: null, signal: null, spawnError: err.message }));
      this.child.on('exit', (code, signal) => {
        exitTimeMs = Date.now();
        // Children left in the group would hold the output pipes open: they go with the process.
        if (this.pid) signalGroup(this.pid, 'SIGKILL');
        // 'close' waits for the pipes so every line is seen first; do not wait forever for it.
        setTimeout(() => finish({ code, signal }), 2_000).unref();
      });
      this.child.on('close', (code, signal) => finish({ code, signal }));
    });
  }

  get running(): boolean {
    return this.exitInfo === undefined && this.pid !== undefined;
  }

  get frozen(): boolean {
    return this.stopped;
  }

  stdout(): string {
    return this.output.stdout;
  }

  stderr(): string {
    return this.output.stderr;
  }

  freeze(): void {
    if (this.running && signalGroup(this.pid!, 'SIGSTOP')) this.stopped = true;
  }

  /** Whether the kernel shows the process stopped (SIGSTOP takes effect asynchronously). */
  isStopped(): boolean {
    if (!this.running) return true;
    try {
      const stat = readFileSync(`/proc/${this.pid}/stat`, 'latin1');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return state === 'T' || state === 't';
    } catch {
      return true;
    }
  }

  thaw(): void {
    if (this.pid !== undefined && this.stopped) signalGroup(this.pid, 'SIGCONT');
    this.stopped = false;
  }

  /** Signals the whole group; a stopped group is continued so SIGTERM can be acted on. */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    signalGroup(this.pid!, signal);
    if (signal !== 'SIGKILL' && this.stopped) this.thaw();
  }

  kill(): Promise<ExitInfo> {
    if (this.running) signalGroup(this.pid!, 'SIGKILL');
    return this.exited;
  }

  private append(stream: OutputStream, text: string): void {
    let next = this.output[stream] + text;
    if (next.length > this.outputLimit) next = next.slice(next.length - this.outputLimit);
    this.output[stream] = next;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}
