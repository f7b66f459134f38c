/**
 * Settings of the remote write and Pushgateway exporters: defaults, AMP
 * detection for SigV4, and one warning per bad value naming the variable and
 * what it accepts.
 */
import { describe, expect, it } from 'vitest';
import {
  parseRemoteWriteOptions,
  REMOTE_WRITE_DEFAULTS,
} from '../../../extension-src/exporters/prometheus-remote-write/config.js';
import { parsePushgatewayOptions } from '../../../extension-src/exporters/pushgateway/config.js';

const AMP = 'https://aps-workspaces.eu-central-1.amazonaws.com/workspaces/ws-1234/api/v1/remote_write';

describe('remote write settings', () => {
  it('are off without a URL', () => {
    expect(parseRemoteWriteOptions({})).toEqual({ options: undefined, warnings: [] });
  });

  it('sign for AMP by default, with the region of the workspace host', () => {
    const { options, warnings } = parseRemoteWriteOptions({ OBSERVED_REMOTE_WRITE_URL: AMP, AWS_REGION: 'us-east-1' });
    expect(warnings).toEqual([]);
    expect(options).toMatchObject({ sigv4Region: 'eu-central-1', ...REMOTE_WRITE_DEFAULTS });
    expect(options?.translate).toMatchObject({ nativeHistograms: false, scopeLabels: true, targetInfo: true });
  });

  it('do not sign other hosts unless asked, and then use AWS_REGION', () => {
    const plain = parseRemoteWriteOptions({ OBSERVED_REMOTE_WRITE_URL: 'http://prometheus:9090/api/v1/write' });
    expect(plain.options?.sigv4Region).toBeUndefined();
    const forced = parseRemoteWriteOptions({
      OBSERVED_REMOTE_WRITE_URL: 'https://proxy.internal/api/v1/write',
      OBSERVED_REMOTE_WRITE_SIGV4: 'true',
      AWS_REGION: 'ap-southeast-2',
    });
    expect(forced.options?.sigv4Region).toBe('ap-southeast-2');
    expect(
      parseRemoteWriteOptions({ OBSERVED_REMOTE_WRITE_URL: AMP, OBSERVED_REMOTE_WRITE_SIGV4: 'false' }).options
        ?.sigv4Region,
    ).toBeUndefined();
  });

  it('warn once per bad value, naming the variable and the accepted values, and keep the defaults', () => {
    const { options, warnings } = parseRemoteWriteOptions({
      OBSERVED_REMOTE_WRITE_URL: AMP,
      OBSERVED_REMOTE_WRITE_SIGV4: 'maybe',
      OBSERVED_REMOTE_WRITE_MAX_SAMPLES: '0',
      OBSERVED_REMOTE_WRITE_MAX_BYTES: 'lots',
      OBSERVED_PROMETHEUS_NATIVE_HISTOGRAMS: 'sometimes',
      OBSERVED_PROMETHEUS_EXTERNAL_LABELS: 'cluster=prod,broken',
    });
    expect(options).toMatchObject({ maxSamples: 1000, maxBytes: 1_000_000, sigv4Region: 'eu-central-1' });
    expect(options?.translate.externalLabels).toEqual([{ name: 'cluster', value: 'prod' }]);
    expect(warnings).toHaveLength(5);
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^OBSERVED_REMOTE_WRITE_SIGV4=maybe .*accepted values: auto, true, false/),
        expect.stringMatching(/^OBSERVED_REMOTE_WRITE_MAX_SAMPLES=0 .*accepted values: an integer from 1/),
        expect.stringMatching(/^OBSERVED_REMOTE_WRITE_MAX_BYTES=lots .*accepted values: an integer from 1024/),
        expect.stringMatching(/^OBSERVED_PROMETHEUS_NATIVE_HISTOGRAMS=sometimes .*accepted values: true, false/),
        expect.stringMatching(/^OBSERVED_PROMETHEUS_EXTERNAL_LABELS: pair 2 of 2 is not valid; .*key=value/),
      ]),
    );
    // A bad pair is named by its position: the same rule as for headers, which may hold secrets.
    expect(warnings.join()).not.toContain('broken');
    for (const w of warnings) expect(w).not.toContain('\n');
  });

  it('refuse a URL that is not http(s), saying what it takes', () => {
    const { options, warnings } = parseRemoteWriteOptions({ OBSERVED_REMOTE_WRITE_URL: 'ftp://x/y' });
    expect(options).toBeUndefined();
    expect(warnings[0]).toMatch(
      /^OBSERVED_REMOTE_WRITE_URL=ftp:\/\/x\/y is not valid; accepted values: an http\(s\) URL/,
    );
  });
});

describe('Pushgateway settings', () => {
  it('are off without a URL, keep groups by default, and never use native histograms', () => {
    expect(parsePushgatewayOptions({}).options).toBeUndefined();
    const { options, warnings } = parsePushgatewayOptions({
      OBSERVED_PUSHGATEWAY_URL: 'http://pushgateway:9091',
      OBSERVED_PROMETHEUS_NATIVE_HISTOGRAMS: 'true',
    });
    expect(warnings).toEqual([]);
    expect(options).toMatchObject({ deleteOnShutdown: false, timeoutMs: 5_000 });
    expect(options?.translate.nativeHistograms).toBe(false);
  });

  it('warn about a bad delete setting', () => {
    const { options, warnings } = parsePushgatewayOptions({
      OBSERVED_PUSHGATEWAY_URL: 'http://pushgateway:9091',
      OBSERVED_PUSHGATEWAY_DELETE_ON_SHUTDOWN: 'always',
    });
    expect(options?.deleteOnShutdown).toBe(false);
    expect(warnings).toEqual([
      'OBSERVED_PUSHGATEWAY_DELETE_ON_SHUTDOWN=always is not valid; accepted values: true, false (using false)',
    ]);
  });
});
