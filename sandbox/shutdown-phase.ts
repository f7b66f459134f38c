/**
 * The SHUTDOWN phase: the runtime goes first (SIGTERM and a short grace on a spin-down, SIGKILL otherwise),
 * then the extensions registered for SHUTDOWN get the event and until the deadline to exit, then SIGKILL.
 * A reset after a timeout or crash is the same phase, after which the next invoke starts cold.
 */
import type { LifecycleContext } from './lifecycle-context.js';
import { RUNTIME } from './process-supervisor.js';
import { durationBetween } from './telemetry-events.js';
import { sleep } from './waiter.js';

/** How long the runtime gets to exit by itself: after SIGTERM on a spin-down, after reporting an init error. */
export const RUNTIME_SIGTERM_GRACE_MS = 300;

/** How long the Telemetry API deliveries already on their way may take once the processes are gone. */
const DELIVERY_SETTLE_MS = 200;

export interface ExtensionShutdown {
  name: string;
  /** Whether it exited by itself before the deadline. */
  exitedInTime: boolean;
  /** From the start of shutdown to its exit. */
  durationMs?: number;
  exitCode: number | null;
  signal: string | null;
  /** Whether it received SHUTDOWN (it registered for it). */
  notified: boolean;
}

export interface ShutdownResult {
  reason: string;
  deadlineMs: number;
  durationMs: number;
  /** Every extension that received SHUTDOWN exited before the deadline. */
  extensionsExitedInTime: boolean;
  extensions: ExtensionShutdown[];
  /** Processes that had to be killed with SIGKILL. */
  killed: string[];
  runtime?: { exitCode: number | null; signal: string | null; killed: boolean };
}

/** Lambda's reset after a timeout or crash: the runtime goes, extensions get SHUTDOWN, next invoke is a cold start. */
export async function reset(ctx: LifecycleContext, reason: string): Promise<ShutdownResult> {
  ctx.log.add('reset', { data: { reason } });
  const result = await terminate(ctx, reason);
  ctx.state = 'uninitialized';
  return result;
}

/** SHUTDOWN with its reason and deadline; resolves once every process is gone and the generation forgotten. */
export async function terminate(ctx: LifecycleContext, reason: string): Promise<ShutdownResult> {
  const { log, extensionsApi, telemetry } = ctx;
  ctx.state = ctx.state === 'uninitialized' || ctx.state === 'idle' ? 'shutting-down' : 'resetting';
  const startMs = Date.now();
  const external = extensionsApi.all.filter((e) => e.external).length > 0;
  const deadlineMs = startMs + (ctx.settings.shutdownDeadlineMs ?? (external ? 2000 : 500));
  log.add('shutdown.start', { data: { reason, deadlineMs } });
  ctx.thaw();
  telemetry.resume();

  const runtime = await stopRuntime(ctx, reason, deadlineMs);
  const { extensions, killed } = await shutDownExtensions(ctx, reason, startMs, deadlineMs);
  if (runtime?.killed) killed.unshift(RUNTIME);

  // Let deliveries already on their way finish (bounded), then forget this generation.
  await Promise.race([telemetry.settled(), sleep(DELIVERY_SETTLE_MS)]);
  telemetry.closeAll();
  extensionsApi.reset();
  ctx.runtimeApi.reset();
  ctx.processes.endGeneration();
  const result: ShutdownResult = {
    reason,
    deadlineMs: deadlineMs - startMs,
    durationMs: durationBetween(startMs, Date.now()),
    extensionsExitedInTime: extensions.filter((r) => r.notified).every((r) => r.exitedInTime),
    extensions,
    killed,
    runtime,
  };
  log.add('shutdown.done', { data: { ...result } });
  return result;
}

/** The runtime first: SIGTERM and a short grace on a normal shutdown; SIGKILL on a reset. */
async function stopRuntime(
  ctx: LifecycleContext,
  reason: string,
  deadlineMs: number,
): Promise<ShutdownResult['runtime']> {
  const runtime = ctx.processes.get(RUNTIME);
  if (!runtime) return undefined;
  let killed = false;
  if (runtime.running) {
    if (reason === 'spindown') {
      runtime.signal('SIGTERM');
      await Promise.race([runtime.exited, sleep(Math.min(RUNTIME_SIGTERM_GRACE_MS, deadlineMs - Date.now()))]);
    }
    if (runtime.running) {
      killed = true;
      ctx.log.add('process.kill', { name: RUNTIME });
      await runtime.kill();
    }
  }
  const info = await runtime.exited;
  return { exitCode: info.code, signal: info.signal, killed };
}

/** Then SHUTDOWN to the extensions registered for it, until the deadline; the others are stopped at once. */
async function shutDownExtensions(
  ctx: LifecycleContext,
  reason: string,
  startMs: number,
  deadlineMs: number,
): Promise<{ extensions: ExtensionShutdown[]; killed: string[] }> {
  const { log, extensionsApi } = ctx;
  extensionsApi.dispatch({ eventType: 'SHUTDOWN', shutdownReason: reason, deadlineMs });
  const extensions = ctx.processes.extensions();
  const notified = new Set(extensionsApi.all.filter((e) => e.events.includes('SHUTDOWN')).map((e) => e.name));
  const killed: string[] = [];
  for (const p of extensions) {
    if (!notified.has(p.name) && p.running) {
      killed.push(p.name);
      log.add('process.kill', { name: p.name, data: { why: 'not registered for SHUTDOWN' } });
      p.kill();
    }
  }
  await Promise.race([Promise.all(extensions.map((p) => p.exited)), sleep(deadlineMs - Date.now())]);
  const results: ExtensionShutdown[] = [];
  for (const p of extensions) {
    const exitedInTime = !p.running && !killed.includes(p.name);
    if (p.running) {
      killed.push(p.name);
      log.add('process.kill', { name: p.name, data: { why: 'SHUTDOWN deadline passed' } });
    }
    const info = await p.kill();
    results.push({
      name: p.name,
      exitedInTime,
      durationMs: exitedInTime ? durationBetween(startMs, info.timeMs) : undefined,
      exitCode: info.code,
      signal: info.signal,
      notified: notified.has(p.name),
    });
  }
  return { extensions: results, killed };
}
