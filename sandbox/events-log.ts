/**
 * The environment's ordered event log: every Runtime/Extensions/Telemetry API
 * call, every telemetry event generated and delivered, every process start,
 * exit, freeze and thaw. Tests assert on it; the CLI prints it.
 */

export type SandboxEventType =
  | 'init.start'
  | 'init.done'
  | 'init.error'
  | 'invoke.start'
  | 'invoke.done'
  | 'freeze'
  | 'thaw'
  | 'timeout'
  | 'reset'
  | 'shutdown.start'
  | 'shutdown.done'
  | 'process.spawn'
  | 'process.exit'
  | 'process.kill'
  | 'runtime.next'
  | 'runtime.invoke'
  | 'runtime.response'
  | 'runtime.error'
  | 'runtime.init-error'
  | 'runtime.api-error'
  | 'extension.register'
  | 'extension.next'
  | 'extension.event'
  | 'extension.init-error'
  | 'extension.exit-error'
  | 'extension.api-error'
  | 'telemetry.subscribe'
  | 'telemetry.subscribe-rejected'
  | 'telemetry.event'
  | 'telemetry.delivery'
  | 'telemetry.delivery-failed'
  | 'log';

export interface SandboxEvent {
  /** Position in the log, strictly increasing. */
  seq: number;
  /** Wall clock, epoch milliseconds. */
  timeMs: number;
  type: SandboxEventType;
  /** The invocation this entry belongs to, when there is one. */
  requestId?: string;
  /** Extension, process or subscriber name, when the entry concerns one. */
  name?: string;
  data?: Record<string, unknown>;
}

type Listener = (event: SandboxEvent) => void;

export class EventLog {
  private readonly list: SandboxEvent[] = [];
  private nextSeq = 1;
  private readonly listeners = new Set<Listener>();

  /** Oldest entries are dropped beyond this many, so long load runs stay bounded in memory. */
  constructor(private readonly maxEntries = 20_000) {}

  get entries(): readonly SandboxEvent[] {
    return this.list;
  }

  /** The sequence number the next entry will get. */
  get cursor(): number {
    return this.nextSeq;
  }

  add(type: SandboxEventType, fields: Omit<SandboxEvent, 'seq' | 'timeMs' | 'type'> = {}): SandboxEvent {
    const event: SandboxEvent = { seq: this.nextSeq++, timeMs: Date.now(), type, ...fields };
    this.list.push(event);
    if (this.list.length > this.maxEntries * 1.1) this.list.splice(0, this.list.length - this.maxEntries);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** Entries with seq >= from (and < to when given). */
  since(from: number, to = Number.POSITIVE_INFINITY): SandboxEvent[] {
    return this.list.filter((e) => e.seq >= from && e.seq < to);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the first entry (already logged or future) that matches; rejects after timeoutMs. */
  waitFor(predicate: (e: SandboxEvent) => boolean, timeoutMs = 10_000, fromSeq = 0): Promise<SandboxEvent> {
    const found = this.list.find((e) => e.seq >= fromSeq && predicate(e));
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`no sandbox event matched within ${timeoutMs} ms`));
      }, timeoutMs);
      const unsubscribe = this.subscribe((e) => {
        if (e.seq >= fromSeq && predicate(e)) {
          clearTimeout(timer);
          unsubscribe();
          resolve(e);
        }
      });
    });
  }
}
