/**
 * Headers from a secret: the extension reads OBSERVED_OTLP_HEADERS_SECRET_ARN
 * from Secrets Manager or SSM over their JSON APIs (signed, no SDK), against a
 * local server that follows the documented wire contract, and end to end in
 * the sandbox the backend sees the secret's header on every export.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  awsSecretsResolver,
  headersFromSecret,
  loadSecretHeaders,
  parseHeadersValue,
  type SecretSource,
} from '../../../extension-src/aws/secrets.js';
import { createLogger } from '../../../extension-src/self-telemetry/log.js';
import { LambdaEnvironment } from '../../../sandbox/index.js';
import { AwsSecretsFake } from '../../support/aws-secrets-fake.js';
import { removeTestLayer, SAMPLE_FUNCTION_DIR, testLayer } from '../../support/extension-layer.js';
import { OpenSearchFake } from '../../support/opensearch-fake.js';
import { OtlpSink } from '../../support/otlp-sink.js';

const REGION = 'eu-west-3';
const SECRET_ARN = `arn:aws:secretsmanager:${REGION}:123456789012:secret:otlp-headers-AbCdEf`;
const PARAMETER_ARN = `arn:aws:ssm:${REGION}:123456789012:parameter/observed/otlp-headers`;

const WITHOUT = 'OTLP requests are sent without them';

/** The OTLP headers secret, as OBSERVED_OTLP_HEADERS_SECRET_ARN names it. */
function otlpHeaders(arn: string): SecretSource[] {
  return [{ variable: 'OBSERVED_OTLP_HEADERS_SECRET_ARN', arn, form: 'headers' }];
}

function capturingLogger() {
  const lines: string[] = [];
  return { log: createLogger('info', (line) => lines.push(line)), lines };
}

describe('secret headers', () => {
  let fake: AwsSecretsFake;
  beforeAll(async () => {
    fake = await AwsSecretsFake.start({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'fake-secret', region: REGION });
    fake.secrets.set(SECRET_ARN, JSON.stringify({ 'X-Api-Key': 'k-123', tenant: 'blue' }));
    fake.parameters.set(PARAMETER_ARN, 'api-key=p%2F456,team=red');
  });
  afterAll(() => fake.close());
  afterEach(() => {
    fake.delayMs = 0;
    fake.calls.length = 0;
    fake.rejected.length = 0;
  });

  it('reads a Secrets Manager secret holding a JSON object, with a request signed for secretsmanager', async () => {
    const { log, lines } = capturingLogger();
    const headers = await loadSecretHeaders(otlpHeaders(SECRET_ARN), log, WITHOUT, awsSecretsResolver(fake.env()));
    expect(headers).toEqual({ 'x-api-key': 'k-123', tenant: 'blue' });
    expect(fake.rejected).toEqual([]);
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0].target).toBe('secretsmanager.GetSecretValue');
    expect(fake.calls[0].body).toEqual({ SecretId: SECRET_ARN });
    expect(fake.calls[0].scope).toMatch(new RegExp(`^\\d{8}/${REGION}/secretsmanager/aws4_request$`));
    expect(lines.join('\n')).not.toContain('k-123');
  });

  it('reads an SSM parameter in key=value form, decrypted, signed for ssm', async () => {
    const headers = await loadSecretHeaders(
      otlpHeaders(PARAMETER_ARN),
      capturingLogger().log,
      WITHOUT,
      awsSecretsResolver(fake.env()),
    );
    expect(headers).toEqual({ 'api-key': 'p/456', team: 'red' });
    expect(fake.calls[0].target).toBe('AmazonSSM.GetParameter');
    expect(fake.calls[0].body).toEqual({ Name: PARAMETER_ARN, WithDecryption: true });
    expect(fake.calls[0].scope).toContain(`/${REGION}/ssm/aws4_request`);
  });

  it.each([
    ['a missing secret', `${SECRET_ARN}-gone`, 'ResourceNotFoundException'],
    ['a missing parameter', `${PARAMETER_ARN}-gone`, 'ParameterNotFound'],
    ['a secret the role may not read', 'denied', 'AccessDeniedException'],
  ])('logs one line with the AWS error code for %s and returns no headers', async (_, arn, code) => {
    const target = arn === 'denied' ? SECRET_ARN.replace('otlp-headers', 'other') : arn;
    if (arn === 'denied') {
      fake.secrets.set(target, '{"a":"b"}');
      fake.denied.add(target);
    }
    const { log, lines } = capturingLogger();
    expect(await loadSecretHeaders(otlpHeaders(target), log, WITHOUT, awsSecretsResolver(fake.env()))).toEqual({});
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('OBSERVED_OTLP_HEADERS_SECRET_ARN');
    expect(lines[0]).toContain(code);
    expect(lines[0]).toContain('HTTP 400');
  });

  it('gives up within its time limit when the service does not answer', async () => {
    fake.delayMs = 3_000;
    const { log, lines } = capturingLogger();
    const started = Date.now();
    expect(
      await loadSecretHeaders(otlpHeaders(SECRET_ARN), log, WITHOUT, awsSecretsResolver(fake.env(), 300), 300),
    ).toEqual({});
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/OBSERVED_OTLP_HEADERS_SECRET_ARN: \S+: .*300 ms/);
    // The fake answers the abandoned call later: let it land here, not in the calls of a later test.
    await vi.waitFor(() => expect(fake.calls).toHaveLength(1), { timeout: 5_000 });
  });

  it('says which credentials are missing rather than sending an unsigned request', async () => {
    const env = { ...fake.env(), AWS_ACCESS_KEY_ID: '' };
    const { log, lines } = capturingLogger();
    expect(await loadSecretHeaders(otlpHeaders(SECRET_ARN), log, WITHOUT, awsSecretsResolver(env))).toEqual({});
    expect(lines[0]).toContain('MissingCredentials');
    expect(fake.calls).toHaveLength(0);
  });

  it('rejects a value that is neither JSON headers nor key=value pairs without echoing it', () => {
    expect(() => parseHeadersValue('just-a-token')).toThrow(/pair 1 of 1/);
    expect(() => parseHeadersValue('{"a": {"b": 1}}')).toThrow(/not a string/);
    expect(() => parseHeadersValue('{hunter2')).toThrow(/^the value starts with "\{" but is not valid JSON$/);
    expect(parseHeadersValue(' {"Authorization":"Bearer x"} ')).toEqual({ authorization: 'Bearer x' });
  });

  it('turns a bearer token and basic auth credentials into an authorization header, never echoing them', () => {
    expect(headersFromSecret('bearer-token', ' t0ken.abc \n')).toEqual({ authorization: 'Bearer t0ken.abc' });
    const basic = `Basic ${Buffer.from('writer:p:ss w').toString('base64')}`;
    expect(headersFromSecret('basic-auth', '{"username":"writer","password":"p:ss w","engine":"x"}')).toEqual({
      authorization: basic,
    });
    expect(headersFromSecret('basic-auth', 'writer:p:ss w')).toEqual({ authorization: basic });
    expect(() => headersFromSecret('bearer-token', 'two words')).toThrow(/^a bearer token is one word without blanks$/);
    expect(() => headersFromSecret('basic-auth', 'hunter2')).toThrow(
      /^basic auth needs \{"username": "...", "password": "..."\} or username:password$/,
    );
    expect(() => headersFromSecret('basic-auth', '{"username": 5, "password": "hunter2"}')).toThrow(
      /^basic auth needs/,
    );
  });

  it('reads several secrets at once and merges their headers; one that fails is logged and left out', async () => {
    const token = `arn:aws:ssm:${REGION}:123456789012:parameter/observed/remote-write-token`;
    fake.parameters.set(token, 'tok-987');
    const { log, lines } = capturingLogger();
    const headers = await loadSecretHeaders(
      [
        { variable: 'OBSERVED_REMOTE_WRITE_HEADERS_SECRET_ARN', arn: SECRET_ARN, form: 'headers' },
        { variable: 'OBSERVED_REMOTE_WRITE_BEARER_TOKEN_SECRET_ARN', arn: token, form: 'bearer-token' },
        { variable: 'OBSERVED_REMOTE_WRITE_BASIC_AUTH_SECRET_ARN', arn: `${SECRET_ARN}-gone`, form: 'basic-auth' },
      ],
      log,
      'remote write requests are sent without them',
      awsSecretsResolver(fake.env()),
    );
    expect(headers).toEqual({ 'x-api-key': 'k-123', tenant: 'blue', authorization: 'Bearer tok-987' });
    const warnings = lines.filter((l) => l.includes('WARN'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('OBSERVED_REMOTE_WRITE_BASIC_AUTH_SECRET_ARN: ResourceNotFoundException');
    expect(warnings[0]).toContain('remote write requests are sent without them');
    expect(lines.join('\n')).not.toMatch(/k-123|tok-987/);
  });

  describe('in the sandbox', () => {
    let layerDir: string;
    beforeAll(async () => {
      layerDir = (await testLayer()).layerDir;
    });
    afterAll(() => removeTestLayer());

    /** The sample function with the extension's layer; the extension reads its secrets from the fake. */
    function startSample(env: Record<string, string>): Promise<LambdaEnvironment> {
      return LambdaEnvironment.start({
        handler: 'index.handler',
        codeDir: SAMPLE_FUNCTION_DIR,
        layers: [layerDir],
        env: { ...fake.env(), ...env },
      });
    }

    it("sends the secret's headers, merged over OBSERVED_OTLP_HEADERS, on every export", async () => {
      const sink = await new OtlpSink().start();
      const env = await startSample({
        OBSERVED_OTLP_ENDPOINT: sink.url,
        OBSERVED_OTLP_HEADERS: 'x-api-key=from-plain-variable,x-static=s',
        OBSERVED_OTLP_HEADERS_SECRET_ARN: SECRET_ARN,
      });
      try {
        for (let i = 0; i < 3; i++) expect((await env.invoke({ spans: 2, points: 1, logs: 1 })).status).toBe('success');
        await env.shutdown();
        expect(sink.received.length).toBeGreaterThanOrEqual(3);
        for (const request of sink.received) {
          expect(request.headers['x-api-key']).toBe('k-123');
          expect(request.headers.tenant).toBe('blue');
          expect(request.headers['x-static']).toBe('s');
        }
        expect(fake.calls.filter((c) => c.answered === 200)).toHaveLength(1);
      } finally {
        await env.shutdown().catch(() => {});
        await sink.stop();
      }
    });

    it('sends remote write, Pushgateway and OpenSearch credentials from secrets, and no value reaches the log', async () => {
      const token = `arn:aws:ssm:${REGION}:123456789012:parameter/observed/rw-token`;
      const pushAuth = `arn:aws:secretsmanager:${REGION}:123456789012:secret:push-auth-AbCdEf`;
      const searchAuth = `arn:aws:secretsmanager:${REGION}:123456789012:secret:search-auth-AbCdEf`;
      fake.parameters.set(token, 'rw-tok-1');
      fake.secrets.set(pushAuth, 'pusher:push-pw');
      fake.secrets.set(searchAuth, JSON.stringify({ username: 'indexer', password: 'search-pw' }));
      // Remote write and the Pushgateway: servers that answer as the real ones do and keep each request's headers.
      const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
      const backend = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          seen.push({ path: req.url ?? '', headers: req.headers });
          res.writeHead(req.url?.startsWith('/api/v1/write') ? 204 : 200).end();
        });
      });
      await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
      const base = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
      const search = await new OpenSearchFake().start();
      search.basicAuth = { username: 'indexer', password: 'search-pw' };
      const env = await startSample({
        OBSERVED_FLUSH: 'end-of-invocation',
        OBSERVED_REMOTE_WRITE_URL: `${base}/api/v1/write`,
        OBSERVED_REMOTE_WRITE_BEARER_TOKEN_SECRET_ARN: token,
        OBSERVED_PUSHGATEWAY_URL: `${base}/push`,
        OBSERVED_PUSHGATEWAY_BASIC_AUTH_SECRET_ARN: pushAuth,
        OBSERVED_OPENSEARCH_ENDPOINT: search.url,
        OBSERVED_OPENSEARCH_BASIC_AUTH_SECRET_ARN: searchAuth,
      });
      try {
        for (let i = 0; i < 2; i++) expect((await env.invoke({ spans: 1, points: 2, logs: 2 })).status).toBe('success');
        await env.shutdown();
        const writes = seen.filter((r) => r.path.startsWith('/api/v1/write'));
        const pushes = seen.filter((r) => r.path.startsWith('/push/'));
        expect(writes.length).toBeGreaterThan(0);
        expect(pushes.length).toBeGreaterThan(0);
        for (const r of writes) expect(r.headers.authorization).toBe('Bearer rw-tok-1');
        for (const r of pushes) {
          expect(r.headers.authorization).toBe(`Basic ${Buffer.from('pusher:push-pw').toString('base64')}`);
        }
        expect(search.documents.length).toBeGreaterThan(0);
        const log = env.stdout('observed-lambda');
        expect(log).not.toMatch(/rw-tok-1|push-pw|search-pw/);
        expect(log).not.toContain('WARN');
      } finally {
        await env.shutdown().catch(() => {});
        await new Promise((resolve) => backend.close(resolve));
        await search.stop();
      }
    });

    it('logs one line for a missing secret and still delivers', async () => {
      const sink = await new OtlpSink().start();
      const env = await startSample({
        OBSERVED_OTLP_ENDPOINT: sink.url,
        OBSERVED_OTLP_HEADERS_SECRET_ARN: `${SECRET_ARN}-missing`,
      });
      try {
        const result = await env.invoke({ spans: 2, points: 1, logs: 1 });
        expect(result.status).toBe('success');
        await env.shutdown();
        const lines = env
          .stdout('observed-lambda')
          .split('\n')
          .filter((l) => l.includes('OBSERVED_OTLP_HEADERS_SECRET_ARN'));
        expect(lines).toHaveLength(1);
        expect(lines[0]).toContain('ResourceNotFoundException');
        expect(sink.spans().length).toBeGreaterThan(0);
        for (const request of sink.received) expect(request.headers['x-api-key']).toBeUndefined();
      } finally {
        await env.shutdown().catch(() => {});
        await sink.stop();
      }
    });
  });
});
