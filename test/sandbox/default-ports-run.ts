/**
 * One sandbox environment on the extension's default ports (4318, 4317), run by default-ports.test.ts in a
 * network namespace of its own: the sample function exports to the SDK's default endpoint and sends its
 * flushed notice to the default port, as in Lambda. Prints one JSON line and exits.
 */
import { LambdaEnvironment } from '../../sandbox/index.js';
import { accounting, exitTotals, SAMPLE_FUNCTION_DIR } from '../support/extension-layer.js';
import { OtlpSink } from '../support/otlp-sink.js';

async function main(): Promise<void> {
  const sink = await new OtlpSink().start();
  const env = await LambdaEnvironment.start({
    handler: 'index.handler',
    codeDir: SAMPLE_FUNCTION_DIR,
    layers: [process.env.OBSERVED_TEST_LAYER ?? ''],
    receiverPorts: 'default',
    env: { OBSERVED_OTLP_ENDPOINT: sink.url },
  });
  const produced: string[] = [];
  const statuses: string[] = [];
  for (let i = 0; i < 3; i++) {
    const result = await env.invoke({ spans: 2, points: 1, logs: 1 });
    statuses.push(result.status);
    produced.push(...((result.result as { spanIds?: string[] } | undefined)?.spanIds ?? []));
  }
  const functionEnv = env.functionEnv;
  await env.shutdown();
  const arrived = sink.spans().map((s) => Buffer.from(s.spanId ?? []).toString('hex'));
  const totals = exitTotals(env.stdout('observed-lambda'));
  await sink.stop();
  process.stdout.write(
    `${JSON.stringify({
      statuses,
      produced,
      arrived,
      traces: totals ? accounting(totals, 'traces') : undefined,
      ready: env.stdout('observed-lambda').match(/OTLP\/HTTP port (\d+)/)?.[1],
      variables: ['OBSERVED_RECEIVER_PORT', 'OBSERVED_RECEIVER_GRPC_PORT', 'OTEL_EXPORTER_OTLP_ENDPOINT'].filter(
        (name) => name in functionEnv,
      ),
    })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`default-ports run failed: ${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  },
);
