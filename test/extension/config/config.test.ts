/** OBSERVED_* configuration: defaults, accepted values, and one clear warning per bad value. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../extension-src/config/index.js';

describe('loadConfig', () => {
  it('has working defaults with no variables set', () => {
    const { config, warnings } = loadConfig({});
    expect(warnings).toEqual([]);
    expect(config.flush.strategy).toEqual({ kind: 'adaptive' });
    expect(config.receiver.port).toBe(4318);
    expect(config.receiver.grpcPort).toBe(4317);
    expect(config.logLevel).toBe('info');
    expect(config.otlp).toBeUndefined();
    expect(config.telemetry.buffering.timeoutMs).toBe(25);
  });

  it('builds the per-signal URLs from OBSERVED_OTLP_ENDPOINT, as OTEL_EXPORTER_OTLP_ENDPOINT', () => {
    const { config } = loadConfig({
      OBSERVED_OTLP_ENDPOINT: 'https://otlp.example.com:4318/base/',
      OBSERVED_OTLP_LOGS_ENDPOINT: 'https://logs.example.com/custom/path',
    });
    expect(config.otlp?.urls.traces?.href).toBe('https://otlp.example.com:4318/base/v1/traces');
    expect(config.otlp?.urls.metrics?.href).toBe('https://otlp.example.com:4318/base/v1/metrics');
    expect(config.otlp?.urls.logs?.href).toBe('https://logs.example.com/custom/path');
    expect(loadConfig({ OBSERVED_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).config.otlp?.urls.traces?.href).toBe(
      'http://127.0.0.1:4318/v1/traces',
    );
  });

  it('reads protocol, headers (percent-decoded), compression and timeout', () => {
    const { config, warnings } = loadConfig({
      OBSERVED_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
      OBSERVED_OTLP_PROTOCOL: 'http/json',
      OBSERVED_OTLP_HEADERS: 'Authorization=Basic%20abc%3D%3D, x-tenant = t1',
      OBSERVED_OTLP_COMPRESSION: 'gzip',
      OBSERVED_OTLP_TIMEOUT: '2500',
    });
    expect(warnings).toEqual([]);
    expect(config.otlp).toMatchObject({
      protocol: 'http/json',
      headers: { authorization: 'Basic abc==', 'x-tenant': 't1' },
      compression: 'gzip',
      timeoutMs: 2500,
    });
  });

  it.each([
    ['end-of-invocation', { kind: 'end-of-invocation' }],
    ['periodic:60000', { kind: 'periodic', intervalMs: 60_000 }],
    ['ADAPTIVE', { kind: 'adaptive' }],
  ])('reads OBSERVED_FLUSH=%s', (value, strategy) => {
    const { config, warnings } = loadConfig({ OBSERVED_FLUSH: value });
    expect(warnings).toEqual([]);
    expect(config.flush.strategy).toEqual(strategy);
  });

  it.each([
    [{ OBSERVED_FLUSH: 'sometimes' }, 'OBSERVED_FLUSH=sometimes', 'end-of-invocation, periodic:<ms>'],
    [{ OBSERVED_FLUSH: 'periodic:5' }, 'OBSERVED_FLUSH=periodic:5', 'adaptive'],
    [{ OBSERVED_RECEIVER_PORT: '70000' }, 'OBSERVED_RECEIVER_PORT=70000', 'an integer from 0 to 65535'],
    [{ OBSERVED_RECEIVER_PORT: 'http' }, 'OBSERVED_RECEIVER_PORT=http', 'using 4318'],
    [{ OBSERVED_OTLP_ENDPOINT: 'not a url' }, 'OBSERVED_OTLP_ENDPOINT=not a url', 'OTLP export disabled'],
    [{ OBSERVED_OTLP_ENDPOINT: 'ftp://x' }, 'OBSERVED_OTLP_ENDPOINT=ftp://x', 'an http(s) URL'],
    [{ OBSERVED_LOG_LEVEL: 'loud' }, 'OBSERVED_LOG_LEVEL=loud', 'debug, info, warn, error'],
    [
      { OBSERVED_OTLP_ENDPOINT: 'http://a', OBSERVED_OTLP_PROTOCOL: 'grpc' },
      'OBSERVED_OTLP_PROTOCOL=grpc',
      'http/protobuf, http/json',
    ],
    [
      { OBSERVED_OTLP_ENDPOINT: 'http://a', OBSERVED_OTLP_COMPRESSION: 'zstd' },
      'OBSERVED_OTLP_COMPRESSION=zstd',
      'gzip, none',
    ],
    [{ OBSERVED_BUFFER_MAX_ITEMS: '-1' }, 'OBSERVED_BUFFER_MAX_ITEMS=-1', 'an integer from'],
    [{ OBSERVED_TELEMETRY_TIMEOUT_MS: '5' }, 'OBSERVED_TELEMETRY_TIMEOUT_MS', 'from 25 to 30000'],
  ])('warns once about %j, naming the variable and the accepted values', (env, variable, accepted) => {
    const { warnings } = loadConfig(env);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(variable);
    expect(warnings[0]).toContain(accepted);
    expect(warnings[0]).not.toContain('\n');
  });

  it('falls back to the default after a bad value', () => {
    const { config } = loadConfig({ OBSERVED_FLUSH: 'never', OBSERVED_RECEIVER_PORT: '-3', OBSERVED_LOG_LEVEL: 'x' });
    expect(config.flush.strategy).toEqual({ kind: 'adaptive' });
    expect(config.receiver.port).toBe(4318);
    expect(config.logLevel).toBe('info');
  });

  it('never repeats a header value in a warning, which may be a secret', () => {
    const { warnings, config } = loadConfig({
      OBSERVED_OTLP_ENDPOINT: 'http://a',
      OBSERVED_OTLP_HEADERS: 'good=1,=secretvalue,also-bad',
    });
    expect(config.otlp?.headers).toEqual({ good: '1' });
    expect(warnings).toHaveLength(2);
    expect(warnings.join(' ')).not.toContain('secretvalue');
  });

  it('creates the other exporters only when their destination is set', () => {
    const { config } = loadConfig({
      OBSERVED_REMOTE_WRITE_URL: 'http://127.0.0.1:9090/api/v1/write',
      OBSERVED_PUSHGATEWAY_URL: 'http://127.0.0.1:9091',
    });
    expect(config.remoteWrite).toBeDefined();
    expect(config.pushgateway).toBeDefined();
    expect(config.openSearch).toBeUndefined();
    expect(config.otlp).toBeUndefined();
  });
});
