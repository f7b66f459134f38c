/**
 * The `observed-lambda` command line (a separate bundle from the extension:
 * it carries the AWS SDK, which the extension must not).
 *
 *   observed-lambda validate --prometheus-url http://localhost:9090
 *   observed-lambda validate --amp-workspace-id ws-... --region eu-west-1
 *   observed-lambda validate --prometheus-url ... --expected expected.json
 */
import { parseArgs } from 'node:util';
import { closeIdleSockets } from '../extension-src/exporters/http.js';
import { UsageError } from './expected-file.js';
import { EXIT, type Io, validate } from './validate.js';

export const USAGE = `usage: observed-lambda validate [options]

Checks that metrics reach a Prometheus backend with the right values. Without
--expected, sends a known counter, gauge and histogram under a unique run label
through the extension's remote write exporter and queries them back.

backend (one of):
  --prometheus-url <url>        a Prometheus server (remote write receiver enabled)
  --amp-workspace-id <id>       an Amazon Managed Service for Prometheus workspace
  --region <region>             its region (default: AWS_REGION)

options:
  --expected <file>             JSON {"<series selector>": <expected value>, ...};
                                checks these instead of sending the known set
  --remote-write-url <url>      where to send the known set (default: the backend's)
  --header <name=value>         a request header for the backend's remote write and
                                query API, repeatable (e.g. X-Scope-OrgID=<tenant>
                                for Cortex: --prometheus-url http://host/prometheus
                                --remote-write-url http://host/api/v1/push)
  --amp-endpoint-url <url>      the AMP API endpoint (default: the region's)
  --run-id <id>                 run label value (default: a new unique id)
  --wait <seconds>              keep querying until this long for data to arrive
                                (default 10; 60 for AMP, which ingests with a delay)
  --tolerance <fraction>        relative tolerance for values (default 1e-9)

exit status: 0 all series pass, 1 a series is missing or differs, 2 bad usage,
3 the backend cannot be reached or refuses the request`;

function number(raw: string | undefined, flag: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new UsageError(`${flag} ${raw} is not a non-negative number`);
  return value;
}

/** `--header name=value`, each once. */
function headers(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--header ${pair} is not name=value`);
    out[pair.slice(0, at).trim().toLowerCase()] = pair.slice(at + 1).trim();
  }
  return out;
}

export async function run(argv: readonly string[], io: Io): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        'prometheus-url': { type: 'string' },
        'amp-workspace-id': { type: 'string' },
        region: { type: 'string' },
        'amp-endpoint-url': { type: 'string' },
        'remote-write-url': { type: 'string' },
        header: { type: 'string', multiple: true },
        expected: { type: 'string' },
        'run-id': { type: 'string' },
        wait: { type: 'string' },
        tolerance: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [command, ...rest] = positionals;
    if (values.help || command === 'help' || command === undefined) {
      io.out(USAGE);
      return command === undefined && !values.help ? EXIT.usage : EXIT.pass;
    }
    if (command !== 'validate') throw new UsageError(`unknown command ${command}; commands: validate`);
    if (rest.length > 0) throw new UsageError(`unexpected argument ${rest[0]}`);
    const amp = values['amp-workspace-id'] !== undefined;
    return await validate(
      {
        prometheusUrl: values['prometheus-url'],
        ampWorkspaceId: values['amp-workspace-id'],
        region: values.region,
        ampEndpointUrl: values['amp-endpoint-url'],
        remoteWriteUrl: values['remote-write-url'],
        headers: headers(values.header ?? []),
        expectedFile: values.expected,
        runId: values['run-id'],
        waitSeconds: number(values.wait, '--wait', amp ? 60 : 10),
        tolerance: number(values.tolerance, '--tolerance', 1e-9),
      },
      io,
    );
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`error: ${(error as Error).message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    io.err(`error: ${(error as Error).stack ?? error}`);
    return EXIT.backend;
  } finally {
    // The remote write exporter's keep-alive sockets would hold the process open until the server closes them.
    closeIdleSockets();
  }
}

if (require.main === module) {
  // The AMP client is bundled at a fixed version, so the SDK's notice about its future releases needing a
  // newer Node.js does not concern this command.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  run(process.argv.slice(2), {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    env: process.env,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = EXIT.backend;
    },
  );
}
