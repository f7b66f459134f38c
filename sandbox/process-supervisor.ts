/**
 * The runtime and extension processes of one environment: started with their output sent to the event log
 * and the Telemetry API, frozen and thawed together, and, when one exits while nobody is stopping it, the
 * failure Lambda reports for that exit. A reset ends a generation: its processes are forgotten, what they
 * printed is kept.
 */
import type { EventLog } from './events-log.js';
import type { RegisteredExtension } from './extensions-api.js';
import type { MemoryLimit } from './memory-limit.js';
import { type ExitInfo, ManagedProcess, type OutputStream, type ProcessKind } from './processes.js';
import { parseJson } from './runtime-api.js';
import type { TelemetryApi } from './telemetry-api.js';
import { logEvent } from './telemetry-events.js';
import { sleep } from './waiter.js';

/** Why a phase failed, as Lambda reports it. */
export interface Failure {
  errorType: string;
  errorMessage: string;
}

/** The runtime's process name; extensions are named after their executables. */
export const RUNTIME = 'runtime';

/** How long a freeze waits for the kernel to show every process stopped. */
const FREEZE_CHECK_MS = 500;

export interface SupervisorOptions {
  log: EventLog;
  telemetry: TelemetryApi;
  memoryLimit: MemoryLimit | undefined;
  onOutput?: (process: string, stream: OutputStream, line: string) => void;
  /** The extension of that name as the Extensions API knows it (for the error type of its exit). */
  extension: (name: string) => RegisteredExtension | undefined;
  /** Whether exits are expected now: the environment is being reset or shut down. */
  exitsExpected: () => boolean;
  /** After each exit of a current process, so that waits re-check their conditions. */
  onExit: () => void;
}

export type ProcessInfo = { name: string; kind: string; pid: number | undefined; running: boolean };

export class ProcessSupervisor {
  /** The request whose output lines are being logged, if any. */
  requestId: string | undefined;
  private current = new Map<string, ManagedProcess>();
  /** Output of processes of earlier generations (before a reset), per name. */
  private readonly pastOutput = new Map<string, { stdout: string; stderr: string }>();
  private failure: Failure | undefined;

  constructor(private readonly options: SupervisorOptions) {}

  /** The failure of the first process of this generation that exited unexpectedly. */
  get crash(): Failure | undefined {
    return this.failure;
  }

  clearCrash(): void {
    this.failure = undefined;
  }

  get(name: string): ManagedProcess | undefined {
    return this.current.get(name);
  }

  all(): ManagedProcess[] {
    return [...this.current.values()];
  }

  extensions(): ManagedProcess[] {
    return this.all().filter((p) => p.kind === 'extension');
  }

  isExtension(name: string): boolean {
    return this.current.get(name)?.kind === 'extension';
  }

  /** Process group ids of the running processes, for memory sampling. */
  groupIds(): number[] {
    return this.all()
      .filter((p) => p.running && p.pid)
      .map((p) => p.pid!);
  }

  info(): ProcessInfo[] {
    return this.all().map((p) => ({ name: p.name, kind: p.kind, pid: p.pid, running: p.running }));
  }

  spawn(
    name: string,
    kind: ProcessKind,
    command: string,
    args: string[],
    env: Record<string, string>,
    cwd: string,
  ): ManagedProcess {
    const { log, telemetry, memoryLimit, onOutput } = this.options;
    const category = kind === 'runtime' ? 'function' : 'extension';
    const jsonLogs = kind === 'runtime' && env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON';
    const onLog = (stream: OutputStream, line: string) => {
      onOutput?.(name, stream, line);
      log.add('log', { name, requestId: this.requestId, data: { stream, line } });
      let record: string | object = line;
      if (jsonLogs && line.startsWith('{')) {
        const parsed = parseJson(Buffer.from(line));
        if (parsed && typeof parsed === 'object') record = parsed;
      }
      telemetry.publish(logEvent(Date.now(), category, record), category);
    };
    const limited = memoryLimit?.wrap(command, args) ?? { command, args };
    const proc = new ManagedProcess({
      name,
      kind,
      command: limited.command,
      args: limited.args,
      env: kind === 'runtime' ? { ...env, _OBSERVED_SANDBOX_LOG_FD: '3' } : env,
      cwd,
      logRecordFd: kind === 'runtime',
      onLine: onLog,
      onLogRecord: (record) => onLog('stdout', record),
    });
    this.current.set(name, proc);
    log.add('process.spawn', { name, data: { kind, pid: proc.pid, command, args } });
    proc.exited.then((info) => this.onProcessExit(proc, info));
    return proc;
  }

  /** SIGSTOP of every process group; resolves once the kernel shows them stopped (bounded wait). */
  async freeze(): Promise<void> {
    const procs = this.all();
    for (const p of procs) p.freeze();
    const until = Date.now() + FREEZE_CHECK_MS;
    while (!procs.every((p) => p.isStopped()) && Date.now() < until) await sleep(1);
  }

  thaw(): void {
    for (const p of this.current.values()) p.thaw();
  }

  /** Forgets this generation's processes (all gone by now) and its crash; keeps what they printed. */
  endGeneration(): void {
    for (const [name, p] of this.current) {
      const past = this.pastOutput.get(name) ?? { stdout: '', stderr: '' };
      this.pastOutput.set(name, { stdout: past.stdout + p.stdout(), stderr: past.stderr + p.stderr() });
    }
    this.current = new Map();
    this.failure = undefined;
  }

  /** Everything a process of that name printed, all generations. */
  stdout(name: string): string {
    return (this.pastOutput.get(name)?.stdout ?? '') + (this.current.get(name)?.stdout() ?? '');
  }

  stderr(name: string): string {
    return (this.pastOutput.get(name)?.stderr ?? '') + (this.current.get(name)?.stderr() ?? '');
  }

  output(): Record<string, { stdout: string; stderr: string }> {
    const names = new Set([...this.pastOutput.keys(), ...this.current.keys()]);
    return Object.fromEntries([...names].map((n) => [n, { stdout: this.stdout(n), stderr: this.stderr(n) }]));
  }

  private onProcessExit(proc: ManagedProcess, info: ExitInfo): void {
    this.options.log.add('process.exit', {
      name: proc.name,
      data: { code: info.code, signal: info.signal, spawnError: info.spawnError },
    });
    // A process of an earlier generation: its exit was part of that generation's end.
    if (this.current.get(proc.name) !== proc) return;
    if (!this.options.exitsExpected() && !this.failure) this.failure = this.exitFailure(proc, info);
    this.options.onExit();
  }

  /** Lambda's error for an unexpected exit: the runtime's (spawn, out of memory, exit) or the extension's. */
  private exitFailure(proc: ManagedProcess, info: ExitInfo): Failure {
    if (proc.kind === 'runtime' && info.spawnError) {
      return { errorType: 'Runtime.InvalidEntrypoint', errorMessage: `Runtime could not start: ${info.spawnError}` };
    }
    if (proc.kind === 'runtime' && info.signal === 'SIGKILL' && (this.options.memoryLimit?.oomKills() ?? 0) > 0) {
      return { errorType: 'Runtime.OutOfMemory', errorMessage: 'Runtime exited with error: signal: killed' };
    }
    if (proc.kind === 'runtime') {
      return {
        errorType: 'Runtime.ExitError',
        errorMessage: `Runtime exited with error: ${info.signal ? `signal: ${info.signal}` : `exit status ${info.code}`}`,
      };
    }
    const ext = this.options.extension(proc.name);
    return {
      errorType: ext?.initError ?? (ext?.exitError ? 'Extension.ExitError' : 'Extension.Crash'),
      errorMessage: `Extension ${proc.name} exited${info.spawnError ? ` (${info.spawnError})` : ` with ${info.signal ? `signal ${info.signal}` : `status ${info.code}`}`}`,
    };
  }
}
