import { describe, expect, it } from 'vitest';
import {
  subscribeRequestBody,
  subscriptionRefusal,
  telemetrySubscriptionFromEnv,
} from '../../../extension-src/platform/subscription.js';

describe('Telemetry API subscription from the environment', () => {
  it('subscribes to everything with Lambda defaults when nothing is set', () => {
    const { subscription, errors } = telemetrySubscriptionFromEnv({});
    expect(errors).toEqual([]);
    expect(subscription.types).toEqual(['platform', 'function', 'extension']);
    expect(subscription.buffering).toEqual({ maxItems: 1000, maxBytes: 262144, timeoutMs: 25 });
    const body = subscribeRequestBody(subscription, 'http://sandbox.localdomain:1234');
    expect(body.destination).toEqual({ protocol: 'HTTP', URI: 'http://sandbox.localdomain:1234' });
  });

  it('takes a subset of types and buffering within range, and names bad variables', () => {
    const { subscription, errors } = telemetrySubscriptionFromEnv({
      OBSERVED_TELEMETRY_TYPES: 'platform, function',
      OBSERVED_TELEMETRY_MAX_ITEMS: '5000',
      OBSERVED_TELEMETRY_TIMEOUT_MS: '10',
      OBSERVED_TELEMETRY_MAX_BYTES: 'lots',
    });
    expect(subscription.types).toEqual(['platform', 'function']);
    expect(subscription.buffering.maxItems).toBe(5000);
    expect(subscription.buffering.timeoutMs).toBe(25);
    expect(subscription.buffering.maxBytes).toBe(262144);
    expect(errors).toHaveLength(2);
    expect(errors.join('\n')).toMatch(/OBSERVED_TELEMETRY_TIMEOUT_MS.*25 to 30000/);
    expect(errors.join('\n')).toMatch(/OBSERVED_TELEMETRY_MAX_BYTES/);
    expect(telemetrySubscriptionFromEnv({ OBSERVED_TELEMETRY_TYPES: 'none' }).subscription.types).toEqual([]);
    const unknown = telemetrySubscriptionFromEnv({ OBSERVED_TELEMETRY_TYPES: 'platfrom' });
    expect(unknown.errors[0]).toMatch(/OBSERVED_TELEMETRY_TYPES.*platfrom/);
  });
});

describe('Telemetry API subscription answers', () => {
  it("takes Lambda's 200 OK, and refuses an error status or a 2xx with an error body (RIE's 202)", () => {
    expect(subscriptionRefusal(200, 'OK')).toBeUndefined();
    expect(subscriptionRefusal(200, '')).toBeUndefined();
    expect(
      subscriptionRefusal(
        202,
        '{"errorMessage":"Telemetry API is not supported","errorType":"Telemetry.NotSupported"}',
      ),
    ).toBe('HTTP 202 Telemetry.NotSupported: Telemetry API is not supported');
    expect(subscriptionRefusal(400, '{"errorMessage":"bad buffering","errorType":"ValidationError"}')).toBe(
      'HTTP 400 ValidationError: bad buffering',
    );
    expect(subscriptionRefusal(500, 'boom')).toBe('HTTP 500: boom');
  });
});
