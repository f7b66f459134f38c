/**
 * The platform telemetry of the last invocations at SHUTDOWN. With the exec wrapper the function's flushed
 * notice lets the extension call /next before the Telemetry API has delivered even the invocation's start and
 * runtimeDone (they wait out its buffering), so when SHUTDOWN comes right after, every event of the last
 * invocation may still be on its way: the extension must wait for the events of every invocation it saw INVOKE
 * for, and count what never came as dropped. Checked on a quiet machine and with every core busy.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SpanKind } from '../../extension-src/otlp/types.js';
import { PLATFORM_SCOPE } from '../../extension-src/platform/index.js';
import { attribute, useInstrumentedLayer } from '../instrumentation/helpers.js';
import { requireBinary } from '../support/binaries.js';
import { accounting, exitTotals } from '../support/extension-layer.js';

const FUNCTIONS = join(__dirname, '..', 'instrumentation', 'fixtures', 'functions');
const INVOCATIONS = 6;
const layer = useInstrumentedLayer();
const { backend } = layer;

/** The CommonJS fixture with the exec wrapper and the extension, exporting to the backend. */
function startWrapped(functionName: string, env: Record<string, string> = {}) {
  return layer.startWrapped({
    handler: 'index.handler',
    codeDir: join(FUNCTIONS, 'cjs'),
    functionName,
    timeoutMs: 10_000,
    env,
  });
}

/** Runs INVOCATIONS 50 ms apart, then SHUTDOWN; returns the request ids and the extension's output. */
async function runThenShutDown(functionName: string, telemetryTimeoutMs: number) {
  const env = await startWrapped(functionName, { OBSERVED_TELEMETRY_TIMEOUT_MS: String(telemetryTimeoutMs) });
  const requestIds: string[] = [];
  for (let i = 0; i < INVOCATIONS; i++) {
    const result = await env.invoke({ order: i });
    expect(result.status).toBe('success');
    requestIds.push(result.requestId);
    await new Promise((r) => setTimeout(r, 50));
  }
  const shutdown = await env.shutdown();
  expect(shutdown.extensionsExitedInTime).toBe(true);
  return { requestIds, stdout: env.stdout('observed-lambda') };
}

/** The platform's invoke spans (SERVER, named after the function) that reached the backend, by request id. */
function invokeSpans(functionName: string): Map<string, number> {
  const seen = new Map<string, number>();
  for (const request of backend.requests('traces')) {
    for (const rs of request.resourceSpans ?? []) {
      for (const ss of rs.scopeSpans ?? []) {
        if (ss.scope?.name !== PLATFORM_SCOPE.name) continue;
        for (const span of ss.spans ?? []) {
          if (span.name !== functionName || span.kind !== SpanKind.SERVER) continue;
          const id = String(attribute(span.attributes, 'faas.invocation_id'));
          seen.set(id, (seen.get(id) ?? 0) + 1);
        }
      }
    }
  }
  return seen;
}

/** The last value of the platform's faas.invocations counter for one function. */
function invocationsCounter(functionName: string): number | undefined {
  let value: number | undefined;
  for (const request of backend.requests('metrics')) {
    for (const rm of request.resourceMetrics ?? []) {
      if (attribute(rm.resource?.attributes, 'faas.name') !== functionName) continue;
      for (const sm of rm.scopeMetrics ?? []) {
        const metric = sm.metrics?.find((m) => m.name === 'faas.invocations');
        const point = metric?.sum?.dataPoints?.[0];
        if (point) value = Number(point.asInt ?? point.asDouble);
      }
    }
  }
  return value;
}

async function expectEveryInvocation(functionName: string, telemetryTimeoutMs: number) {
  const { requestIds, stdout } = await runThenShutDown(functionName, telemetryTimeoutMs);
  const spans = invokeSpans(functionName);
  expect(requestIds.map((id) => spans.get(id) ?? 0)).toEqual(requestIds.map(() => 1));
  expect(invocationsCounter(functionName)).toBe(INVOCATIONS);
  const totals = exitTotals(stdout)!;
  expect(totals.pipelineDropped.traces).toEqual({});
  expect(accounting(totals, 'traces').dropped).toBe(0);
  expect(stdout).not.toContain('did not all arrive');
}

describe('platform telemetry at SHUTDOWN', () => {
  it('every invocation the extension saw INVOKE for has its platform spans and counts, the last one too', async () => {
    // Lambda holds the events up to a second: those of the last invocations all arrive after SHUTDOWN.
    await expectEveryInvocation('buffered', 1_000);
  });

  it('the same with the shortest buffering', async () => {
    await expectEveryInvocation('quiet', 25);
  });

  it("the emulator's SHUTDOWN reasons (SandboxTerminated, ReleaseFail) end it like spindown: flushed, exit 0 in time", async () => {
    for (const reason of ['SandboxTerminated', 'ReleaseFail']) {
      const env = await startWrapped(`reason-${reason}`);
      expect((await env.invoke({})).status).toBe('success');
      const shutdown = await env.shutdown({ reason });
      expect(shutdown.reason).toBe(reason);
      expect(shutdown.extensions.find((e) => e.name === 'observed-lambda')).toMatchObject({
        exitedInTime: true,
        exitCode: 0,
      });
      const traces = accounting(exitTotals(env.stdout('observed-lambda'))!, 'traces');
      expect(traces.exported).toBe(traces.received);
      expect(traces.dropped).toBe(0);
    }
  });

  const stressNg = requireBinary('stress-ng', 'apt-get install stress-ng (bash scripts/install-system-deps.sh)');
  it.skipIf(!stressNg)('the same with every core busy', async () => {
    // Two CPU burners per core for as long as the test runs: the Telemetry API's deliveries come late.
    const burners = String(2 * availableParallelism());
    const load = spawn(stressNg!, ['--cpu', burners, '--timeout', '60s', '--quiet'], { stdio: 'ignore' });
    try {
      await expectEveryInvocation('loaded', 25);
    } finally {
      load.kill('SIGKILL');
    }
  });
});
