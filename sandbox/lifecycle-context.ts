/**
 * What the phases of one environment's lifecycle (init, invoke, shutdown) share: its settings, the event
 * log, the Runtime, Extensions and Telemetry APIs, the processes, and the state one phase leaves to the next.
 * Freezing and thawing live here because every phase ends or begins with one.
 */
import type { EnvironmentSettings } from './environment-options.js';
import { EventLog } from './events-log.js';
import { type ExtensionChange, ExtensionsApi, type RegisteredExtension } from './extensions-api.js';
import { sampleGroups } from './memory.js';
import { MemoryLimit } from './memory-limit.js';
import type { NodeBinary } from './node-binary.js';
import type { NodeTrap } from './node-trap.js';
import type { ReceiverPorts } from './ports.js';
import { ProcessSupervisor } from './process-supervisor.js';
import { RuntimeApi } from './runtime-api.js';
import { TelemetryApi } from './telemetry-api.js';
import { platform } from './telemetry-events.js';
import { ChangeWaiter } from './waiter.js';

export type EnvironmentState =
  | 'uninitialized'
  | 'initializing'
  | 'idle'
  | 'invoking'
  | 'resetting'
  | 'shutting-down'
  | 'closed';

export class LifecycleContext {
  state: EnvironmentState = 'uninitialized';
  /** Set by a successful init; the invocation it ran for reports it (initDurationMs) and clears it. */
  pendingInitDurationMs: number | undefined;
  /** The most memory the environment's processes have used so far (platform.report's maxMemoryUsedMB). */
  peakRssBytes = 0;
  /** The function's environment variables of the current (or last) init. */
  functionEnv: Record<string, string> = {};
  /** With `extensionsWithoutNode`: the `node` first on the extensions' PATH, which records its runs. */
  nodeTrap: NodeTrap | undefined;
  readonly log: EventLog;
  readonly waiter = new ChangeWaiter();
  /** The environment's memory cgroup, where the host gives one. */
  readonly memoryLimit: MemoryLimit | undefined;
  readonly runtimeApi: RuntimeApi;
  readonly extensionsApi: ExtensionsApi;
  readonly telemetry: TelemetryApi;
  readonly processes: ProcessSupervisor;
  private isFrozen = false;
  /** Extensions whose platform.extension event this init has published. */
  private readonly announced = new Set<string>();

  constructor(
    readonly settings: EnvironmentSettings,
    readonly node: NodeBinary,
    /** `127.0.0.1:<port>`, the AWS_LAMBDA_RUNTIME_API of this environment. */
    readonly runtimeApiAddress: string,
    readonly receiverPorts: ReceiverPorts,
  ) {
    this.log = new EventLog(settings.maxLogEntries);
    this.memoryLimit =
      settings.memoryLimit === false ? undefined : MemoryLimit.create(settings.memorySizeMb * 1024 * 1024);
    this.runtimeApi = new RuntimeApi(this.log, () => this.waiter.notify());
    this.extensionsApi = new ExtensionsApi(
      this.log,
      {
        functionName: settings.functionName,
        functionVersion: settings.functionVersion,
        handler: settings.handler,
        accountId: settings.accountId,
      },
      (name) => this.processes.isExtension(name),
      (ext, change) => this.onExtensionChange(ext, change),
    );
    this.telemetry = new TelemetryApi(this.log);
    this.processes = new ProcessSupervisor({
      log: this.log,
      telemetry: this.telemetry,
      memoryLimit: this.memoryLimit,
      onOutput: settings.onOutput,
      extension: (name) => this.extensionsApi.byName(name),
      exitsExpected: () => this.state === 'resetting' || this.state === 'shutting-down' || this.state === 'closed',
      onExit: () => this.waiter.notify(),
    });
  }

  get frozen(): boolean {
    return this.isFrozen;
  }

  /** Telemetry delivery pauses, then SIGSTOP of every process group, as Lambda freezes between invocations. */
  async freeze(): Promise<void> {
    this.telemetry.pause();
    await this.processes.freeze();
    this.isFrozen = true;
    this.log.add('freeze');
  }

  thaw(): void {
    if (!this.isFrozen) return;
    this.processes.thaw();
    this.isFrozen = false;
    this.telemetry.resume();
    this.log.add('thaw');
  }

  /** Takes the memory the processes use now into the peak. */
  sampleMemory(): void {
    this.peakRssBytes = Math.max(this.peakRssBytes, sampleGroups(this.processes.groupIds()));
  }

  /** Each init announces its extensions anew (platform.extension). */
  forgetAnnouncedExtensions(): void {
    this.announced.clear();
  }

  private onExtensionChange(ext: RegisteredExtension, change: ExtensionChange): void {
    if (change === 'ready' && !this.announced.has(ext.name)) {
      this.announced.add(ext.name);
      this.telemetry.publish(platform.extension(Date.now(), ext.name, ext.events), 'platform');
    }
    this.waiter.notify();
  }
}
