/**
 * Broken or unusual instrumentation settings never stop the handler: a bad
 * value is reported in one clear line (once, not per invocation) and the
 * function answers as before, with telemetry still flowing where it can.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpSink } from '../support/otlp-sink.js';
import { attribute, lambdaEnvironment, NoticeReceiver } from './helpers.js';

const sink = new OtlpSink();
const notices = new NoticeReceiver();
const fixture = join(__dirname, 'fixtures', 'two-invocations.ts');

beforeAll(async () => {
  await sink.start();
  await notices.start();
});

afterAll(async () => {
  await notices.stop();
  await sink.stop();
});

function runFixture(
  extraEnv: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // One process (node with the tsx loader), so a kill ends it for sure.
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
      env: { PATH: process.env.PATH, ...lambdaEnvironment(sink.url, notices.port), ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const ourLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('observed-lambda instrumentation:'));

describe('an unknown propagator in OTEL_PROPAGATORS', () => {
  it('is reported in one line and the handler still answers every invocation', async () => {
    const run = await runFixture({
      OTEL_PROPAGATORS: 'tracecontext,jaegerish,baggage',
      OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'none',
    });

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([
      { statusCode: 200, n: 1 },
      { statusCode: 200, n: 2 },
    ]);
    const lines = ourLines(run.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('OTEL_PROPAGATORS');
    expect(lines[0]).toContain('"jaegerish"');
    // The known propagators and the rest of the SDK keep working.
    const ids = sink.spans().map((s) => attribute(s.attributes, 'faas.invocation_id'));
    expect(ids).toEqual(expect.arrayContaining(['req-1', 'req-2']));
  });
});

describe('an instrumentation that is neither bundled nor installed', () => {
  it('is reported in one line naming the package and the rest still runs', async () => {
    const run = await runFixture({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,not-a-real-library' });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toHaveLength(2);
    const lines = ourLines(run.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('@opentelemetry/instrumentation-not-a-real-library');
  });
});

describe('an OTLP protocol the extension does not speak', () => {
  it('falls back to http/protobuf after one line, and spans still arrive', async () => {
    const before = sink.spans().length;
    const run = await runFixture({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'none' });
    expect(run.code).toBe(0);
    const lines = ourLines(run.stderr);
    expect(lines.some((l) => l.includes('OTEL_EXPORTER_OTLP_PROTOCOL') && l.includes('grpc'))).toBe(true);
    expect(sink.spans().length).toBeGreaterThan(before);
  });
});
