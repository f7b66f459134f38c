/**
 * Runs a handler (and a layer's extensions) in a local Lambda environment and
 * prints the event log:
 *
 *   npx tsx sandbox/cli.ts --handler index.handler --code ./dir --layer ./dist/layer --invoke '{"a":1}' --count 3
 *
 * Options: --handler, --code, --layer (repeatable), --invoke <json | @file>,
 * --count, --env KEY=VALUE (repeatable), --memory <MB>, --no-memory-limit (the memory size is
 * not enforced), --timeout <ms>,
 * --function-name, --log-format Text|JSON, --shutdown-deadline <ms>,
 * --interval <ms> (pause between invocations), --node <path> (the Node.js that runs the function),
 * --tracing Active|PassThrough (X-Ray tracing mode; default PassThrough), --trace-header <X-Amzn-Trace-Id>
 * (the caller's header on every invoke), --no-trace-header (no _X_AMZN_TRACE_ID, as under AWS's
 * Runtime Interface Emulator), --json (one JSON line per event).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  LambdaEnvironment,
  LambdaInitError,
  type SandboxEvent,
  type TelemetryEvent,
  type TracingMode,
} from './index.js';

const USAGE =
  'usage: sandbox --handler <file.export> --code <dir> [--layer <dir>]... [--invoke <json|@file>] [--count <n>] ' +
  '[--env KEY=VALUE]... [--memory <MB>] [--no-memory-limit] [--timeout <ms>] [--function-name <name>] [--log-format Text|JSON] ' +
  '[--shutdown-deadline <ms>] [--interval <ms>] [--node <path to node>] [--tracing Active|PassThrough] ' +
  '[--trace-header <X-Amzn-Trace-Id>] [--no-trace-header] [--json]';

function summary(e: SandboxEvent): string {
  const d = e.data ?? {};
  switch (e.type) {
    case 'telemetry.event': {
      const ev = d.event as TelemetryEvent;
      const r = (ev.record ?? {}) as Record<string, unknown>;
      const parts = [ev.type];
      if (r.status) parts.push(`status=${r.status}`);
      if (r.errorType) parts.push(`errorType=${r.errorType}`);
      if (r.metrics) parts.push(JSON.stringify(r.metrics));
      if (r.name) parts.push(`name=${r.name}`);
      return parts.join(' ');
    }
    case 'telemetry.delivery':
    case 'telemetry.delivery-failed': {
      const types = (d.events as TelemetryEvent[]).map((x) => x.type);
      const counts = new Map<string, number>();
      for (const t of types) counts.set(t, (counts.get(t) ?? 0) + 1);
      const list = [...counts].map(([t, n]) => (n > 1 ? `${t}x${n}` : t)).join(', ');
      return `${d.count} events${d.error ? ` FAILED (${d.error})` : ''}: ${list}`;
    }
    case 'log':
      return `[${d.stream}] ${d.line}`;
    case 'extension.event':
      return JSON.stringify(d.event);
    default:
      return Object.keys(d).length ? JSON.stringify(d) : '';
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      handler: { type: 'string' },
      code: { type: 'string' },
      layer: { type: 'string', multiple: true },
      invoke: { type: 'string' },
      count: { type: 'string' },
      env: { type: 'string', multiple: true },
      memory: { type: 'string' },
      'no-memory-limit': { type: 'boolean' },
      timeout: { type: 'string' },
      'function-name': { type: 'string' },
      'log-format': { type: 'string' },
      'shutdown-deadline': { type: 'string' },
      interval: { type: 'string' },
      node: { type: 'string' },
      tracing: { type: 'string' },
      'trace-header': { type: 'string' },
      'no-trace-header': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help || !values.handler || !values.code) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  if (values.tracing !== undefined && values.tracing !== 'Active' && values.tracing !== 'PassThrough') {
    console.error(`--tracing takes Active or PassThrough, not ${values.tracing}\n${USAGE}`);
    return 2;
  }
  if (values['no-trace-header'] && values['trace-header'] !== undefined) {
    console.error(`--trace-header and --no-trace-header exclude each other\n${USAGE}`);
    return 2;
  }
  const raw = values.invoke ?? '{}';
  const payload = JSON.parse(raw.startsWith('@') ? readFileSync(raw.slice(1), 'utf8') : raw) as unknown;
  const env: Record<string, string> = {};
  for (const pair of values.env ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--env wants KEY=VALUE, got ${pair}`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const t0 = Date.now();
  const print = (e: SandboxEvent) => {
    if (values.json) {
      console.log(JSON.stringify(e));
      return;
    }
    const when = `+${String(e.timeMs - t0).padStart(6)}ms`;
    const who = [e.name, e.requestId?.slice(0, 8)].filter(Boolean).join(' ');
    console.log(`${when}  ${e.type.padEnd(26)} ${who.padEnd(24)} ${summary(e)}`);
  };

  let environment: LambdaEnvironment;
  try {
    environment = await LambdaEnvironment.start({
      handler: values.handler,
      codeDir: values.code,
      layers: values.layer ?? [],
      env,
      memorySizeMb: values.memory ? Number(values.memory) : undefined,
      memoryLimit: values['no-memory-limit'] ? false : undefined,
      timeoutMs: values.timeout ? Number(values.timeout) : undefined,
      functionName: values['function-name'],
      logFormat: values['log-format'] as 'Text' | 'JSON' | undefined,
      shutdownDeadlineMs: values['shutdown-deadline'] ? Number(values['shutdown-deadline']) : undefined,
      nodeBinary: values.node,
      tracing: values.tracing as TracingMode | undefined,
      traceHeader: values['no-trace-header'] ? 'none' : undefined,
    });
  } catch (err) {
    if (!(err instanceof LambdaInitError)) throw err;
    for (const e of err.events) print(e);
    console.error(`\ninit failed: ${err.message}`);
    for (const [name, out] of Object.entries(err.output)) {
      if (out.stderr) console.error(`--- ${name} stderr ---\n${out.stderr}`);
    }
    return 1;
  }
  for (const e of environment.events) print(e);
  environment.log.subscribe(print);
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
  });

  const count = Number(values.count ?? 1);
  let failures = 0;
  for (let i = 0; i < count && !interrupted; i++) {
    const r = await environment.invoke(payload, { incomingTraceHeader: values['trace-header'] });
    const outcome = r.status === 'success' ? JSON.stringify(r.result) : JSON.stringify(r.error);
    console.log(
      `\n=> ${r.requestId} ${r.status} ${ms(r.durationMs)}${r.coldStart ? ` (cold start, init ${ms(r.initDurationMs)})` : ''} max memory ${r.maxMemoryUsedMB} MB: ${outcome}\n`,
    );
    if (r.status !== 'success') failures++;
    if (values.interval && i < count - 1) await new Promise((ok) => setTimeout(ok, Number(values.interval)));
  }
  const s = await environment.shutdown();
  console.log(
    `\nshutdown: ${s.durationMs} ms, extensions exited in time: ${s.extensionsExitedInTime}` +
      (s.killed.length ? `, killed: ${s.killed.join(', ')}` : ''),
  );
  return failures > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(err.stack ?? err);
    process.exit(2);
  },
);

/** A duration as Lambda's REPORT line gives it: two decimals. */
function ms(value: number | undefined): string {
  return `${(value ?? 0).toFixed(2)} ms`;
}
