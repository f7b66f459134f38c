/**
 * Entry point of the observed-lambda extension, started by Lambda as
 * /opt/extensions/observed-lambda. Wires the modules together:
 *
 *   config -> exporters (registry) -> pipeline <- receivers (OTLP/HTTP, gRPC)
 *                                      ^  <- platform module <- Telemetry API listener
 *   lifecycle controller: register, /next loop, flush scheduler, SHUTDOWN
 *
 * The extension must never make the function fail: bad configuration and
 * unreachable backends are logged once and it carries on. The one fatal case
 * is an Extensions API that cannot be reached (not running in Lambda).
 */
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadSecretHeaders } from './aws/secrets.js';
import { loadConfig } from './config/index.js';
import { closeIdleSockets } from './exporters/http.js';
import { createExporters } from './exporters/registry.js';
import { LifecycleController, type PlatformHandler } from './lifecycle/controller.js';
import { ExitAccounting } from './lifecycle/exit-accounting.js';
import { ExtensionsApiClient, type Registration } from './lifecycle/extensions-api.js';
import { InvocationTracker } from './lifecycle/invocations.js';
import { TelemetryListener } from './lifecycle/telemetry-listener.js';
import type { KeyValue } from './otlp/types.js';
import { Pipeline } from './pipeline/pipeline.js';
import { FlushScheduler } from './pipeline/scheduler.js';
import type { PlatformTelemetry } from './platform/index.js';
import { subscribeRequestBody, subscriptionRefusal } from './platform/subscription.js';
import { createReceivers } from './receiver/index.js';
import { detectLambdaResource, encodeDetected, enrichPayload } from './resource/index.js';
import { processCpuMs } from './self-telemetry/cpu.js';
import { createLogger, type Logger } from './self-telemetry/log.js';
import { SelfMetrics } from './self-telemetry/metrics.js';

/** Lambda knows an extension by its file name in /opt/extensions: the launcher's when one starts the engine (portable layer). */
const EXTENSION_NAME = basename(process.env.OBSERVED_EXTENSION_PATH || process.argv[1] || 'observed-lambda');

async function register(api: ExtensionsApiClient, log: Logger): Promise<Registration> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await api.register(EXTENSION_NAME);
    } catch (error) {
      lastError = error;
      log.warn(`register attempt ${attempt} failed: ${String(error)}`);
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
  throw lastError;
}

async function main(): Promise<void> {
  const { config, warnings } = loadConfig(process.env);
  const log = createLogger(config.logLevel);
  for (const warning of warnings) log.warn(warning);

  const runtimeApi = process.env.AWS_LAMBDA_RUNTIME_API;
  if (!runtimeApi) {
    log.error('AWS_LAMBDA_RUNTIME_API is not set: not running in a Lambda execution environment; exiting');
    process.exit(1);
  }
  const api = new ExtensionsApiClient(runtimeApi);
  const tracker = new InvocationTracker();
  const self = new SelfMetrics();
  let functionArn: string | undefined;
  let accountId: string | undefined;
  let resource: KeyValue[] = detectLambdaResource(process.env);
  let encodedResource = encodeDetected(resource);
  const refreshResource = () => {
    resource = detectLambdaResource(process.env, { accountId, functionArn });
    encodedResource = encodeDetected(resource);
  };

  // Secret headers are fetched while the extension registers, and are in place before the first /next.
  const secretHeaders = new Map<string, Record<string, string>>();
  const secretsLoaded = Promise.all(
    (
      [
        ['otlp', config.otlp?.secrets, 'OTLP requests are sent without them'],
        ['remote-write', config.remoteWrite?.secrets, 'remote write requests are sent without them'],
        ['pushgateway', config.pushgateway?.secrets, 'Pushgateway requests are sent without them'],
        ['opensearch', config.openSearch?.secrets, 'OpenSearch requests are sent without them'],
      ] as const
    ).map(async ([exporter, sources, without]) => {
      if (sources?.length) secretHeaders.set(exporter, await loadSecretHeaders(sources, log, without));
    }),
  );
  const { exporters, counters } = createExporters({
    config,
    log,
    secretHeaders: (exporter) => secretHeaders.get(exporter) ?? {},
  });
  const exitAccounting = new ExitAccounting(exporters);
  for (const source of counters) self.addSource(exitAccounting.source(source));
  if (exporters.length === 0) {
    log.warn(
      'no destination configured (set OBSERVED_OTLP_ENDPOINT, OBSERVED_REMOTE_WRITE_URL, OBSERVED_PUSHGATEWAY_URL or OBSERVED_OPENSEARCH_ENDPOINT); telemetry is received and counted as dropped',
    );
  }
  const pipeline = new Pipeline({
    exporters,
    limits: config.buffer,
    self,
    log,
    enrich: (bytes) => enrichPayload(bytes, encodedResource),
    selfResource: config.selfMetrics ? () => resource : undefined,
  });
  const scheduler = new FlushScheduler(config.flush, pipeline, log);

  // Receivers and the Telemetry API listener start while registering; all must listen before the first /next.
  const receivers = createReceivers({
    config,
    log,
    accept: (payload) => pipeline.accept(payload, 'function'),
    flushed: (requestId, trace) => {
      // Known before the flush the completion may start, so the platform spans and logs join the function's trace.
      if (trace) platformModule().noteFunctionTrace(requestId, trace);
      tracker.complete(requestId, 'flushed');
    },
    started: (requestId, trace) => platformModule().noteFunctionTrace(requestId, trace),
  });
  const startReceivers = (deferred: boolean) =>
    Promise.all(
      receivers
        .filter((r) => r.deferrable === deferred)
        .map((r) => r.start().catch((error) => log.warn(`${r.name} receiver did not start: ${String(error)}`))),
    );
  const receiversStarted = startReceivers(false);

  // The platform module (and the generated protobuf code it encodes with) loads on first use, off the start-up path.
  let platformTelemetry: PlatformTelemetry | undefined;
  const platformModule = (): PlatformTelemetry => {
    if (!platformTelemetry) {
      const { PlatformTelemetry: Platform } = require('./platform/index.js') as typeof import('./platform/index.js');
      platformTelemetry = new Platform({
        emit: (payload) => pipeline.accept(payload, 'platform'),
        resource: () => resource,
        platformEventsExpected: () => runtimeDoneExpected,
        onMissingEvents: (missing) => {
          // One per invocation whose spans are missing or incomplete.
          self.noteDropped('traces', 'platform_events_missing', missing.invocations);
          log.warn(
            `SHUTDOWN: the Telemetry API events of ${missing.invocations} invocation(s) did not all arrive in time (missing start ${missing.start}, runtimeDone ${missing.runtimeDone}, report ${missing.report}); their platform spans and metrics are missing or incomplete`,
          );
        },
      });
    }
    return platformTelemetry;
  };
  const platform: PlatformHandler = {
    noteInvoke(event) {
      if (!functionArn && event.invokedFunctionArn) {
        functionArn = event.invokedFunctionArn;
        refreshResource();
      }
      const tracing =
        typeof event.tracing?.value === 'string' ? { type: event.tracing.type, value: event.tracing.value } : undefined;
      platformModule().noteInvoke({
        requestId: event.requestId,
        invokedFunctionArn: event.invokedFunctionArn,
        deadlineMs: event.deadlineMs,
        tracing,
      });
    },
    onTelemetryEvents: (events) => platformModule().handleEvents(events),
    settle: (deadlineMs) => platformModule().settle(deadlineMs),
  };
  pipeline.onBeforeFlush((final) => platformTelemetry?.flush({ final }));

  const wanted = config.telemetry.types;
  let runtimeDoneExpected = false;
  let subscribed = false;
  const listener = new TelemetryListener({
    onEvents: (events) => platform.onTelemetryEvents(events),
    onRuntimeDone: (requestId) => tracker.complete(requestId, 'runtimeDone'),
    log,
  });
  const listening = wanted.length > 0 ? listener.start().catch((error: unknown) => error as Error) : undefined;

  const registration = await register(api, log);
  accountId = registration.accountId;
  refreshResource();

  if (listening) {
    try {
      const destination = await listening;
      if (destination instanceof Error) throw destination;
      const reply = await api.subscribeTelemetry(subscribeRequestBody(config.telemetry, destination));
      const refusal = subscriptionRefusal(reply.status, reply.body);
      if (refusal === undefined) {
        subscribed = true;
        runtimeDoneExpected = wanted.includes('platform');
      } else {
        log.warn(
          refusal.includes('Telemetry.NotSupported')
            ? `Telemetry API not supported here (${refusal}), as under AWS's Runtime Interface Emulator and sam local: no platform or log telemetry; carrying on as with OBSERVED_TELEMETRY_TYPES=none`
            : `Telemetry API refused the subscription (${refusal}): no platform or log telemetry; carrying on as with OBSERVED_TELEMETRY_TYPES=none`,
        );
      }
    } catch (error) {
      log.warn(
        `Telemetry API subscription failed: ${String(error)}; no platform or log telemetry; carrying on as with OBSERVED_TELEMETRY_TYPES=none`,
      );
    }
    // Nothing will be delivered: free the listener's port.
    if (!subscribed) void listener.stop();
  }
  await receiversStarted;
  await secretsLoaded;
  const cpuMs = processCpuMs();
  log.info(
    `ready in ${Math.round(performance.now())} ms (cpu ${cpuMs === undefined ? '?' : Math.round(cpuMs)} ms): exporters [${exporters.map((e) => e.name).join(', ')}], flush ${config.flush.strategy.kind}, OTLP/HTTP port ${config.receiver.port}`,
  );

  let controller: LifecycleController | undefined;
  const exit = (code: number) => {
    pipeline.abandonStaged();
    // What exporters still hold (queued or on the wire) is lost with the process: count it as dropped.
    exitAccounting.countHeld(controller?.shutdownBegan ?? false);
    const snapshot = self.snapshot();
    log.info(
      `exit ${code} after ${controller?.invocations ?? 0} invocation(s); totals ${JSON.stringify({ received: snapshot.received, pipelineDropped: snapshot.pipelineDropped, exporters: snapshot.exporters })}`,
    );
    closeIdleSockets();
    process.exit(code);
  };
  controller = new LifecycleController({
    api,
    tracker,
    scheduler,
    platform,
    log,
    runtimeDoneExpected: () => runtimeDoneExpected,
    // While Lambda finishes init: start what may start later, and load the platform module before its first events.
    onFirstWait: () => {
      void startReceivers(true);
      if (subscribed) platformModule();
    },
    exit,
  });
  await controller.run();
}

// An unexpected error must not take the function down with the extension: log it and keep serving.
// (LLRT has no process.on: there an uncaught error ends the process, and Lambda reports the extension's exit.)
process.on?.('uncaughtException', (error) => console.log(`[observed-lambda] ERROR uncaught: ${error?.stack ?? error}`));
process.on?.('unhandledRejection', (error) =>
  console.log(`[observed-lambda] ERROR unhandled rejection: ${String(error)}`),
);

main().catch((error: unknown) => {
  // Only registration can fail here: without the Extensions API there is nothing to serve.
  console.log(`[observed-lambda] ERROR cannot start: ${(error as Error)?.stack ?? String(error)}`);
  process.exit(1);
});
