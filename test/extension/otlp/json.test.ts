/**
 * OTLP/JSON <-> protobuf conversion and the wire-format validation walk,
 * checked against the OpenTelemetry JS SDK's own serializers and the
 * official protos.
 */
import { describe, expect, it } from 'vitest';
import { jsonToProtobuf, OtlpJsonError, protobufToJson } from '../../../extension-src/otlp/json.js';
import { decodeRequest, messageTypes } from '../../../extension-src/otlp/proto.js';
import { SIGNALS, type Signal } from '../../../extension-src/otlp/types.js';
import { validateRequest } from '../../../extension-src/otlp/validate.js';
import { WireFormatError } from '../../../extension-src/wire/error.js';
import { sdkRequests } from '../../support/otlp-fixtures.js';

/** The decoded request as plain data (Long -> string, bytes -> hex), for deep comparison. */
function plain(signal: Signal, bytes: Uint8Array): unknown {
  const type = messageTypes.request[signal];
  // With defaults filled in: senders differ in whether they write proto3 default values, which mean the same.
  return type.toObject(type.decode(bytes), { longs: String, bytes: String, enums: Number, defaults: true });
}

describe('OTLP/JSON to protobuf', async () => {
  const fixtures = await sdkRequests({ spans: 6, series: 4, logs: 5 });

  for (const signal of SIGNALS) {
    it(`converts the SDK's JSON ${signal} request into the same message as its protobuf serializer`, () => {
      const { bytes, items } = jsonToProtobuf(signal, JSON.parse(fixtures[signal].json));
      expect(items).toBe(fixtures[signal].items);
      expect(plain(signal, bytes)).toEqual(plain(signal, fixtures[signal].protobuf));
    });

    it(`round-trips ${signal} protobuf through OTLP/JSON`, () => {
      const json = protobufToJson(signal, fixtures[signal].protobuf);
      const back = jsonToProtobuf(signal, JSON.parse(JSON.stringify(json)));
      expect(plain(signal, back.bytes)).toEqual(plain(signal, fixtures[signal].protobuf));
    });

    it(`validates the SDK's ${signal} protobuf and counts its items`, () => {
      expect(validateRequest(signal, fixtures[signal].protobuf)).toBe(fixtures[signal].items);
    });
  }

  it('writes ids as hex, 64-bit integers as strings and enums as integers', () => {
    const json = protobufToJson('traces', fixtures.traces.protobuf) as {
      resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[];
    };
    const span = json.resourceSpans[0].scopeSpans[0].spans[0];
    expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(span.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(span.startTimeUnixNano).toMatch(/^\d{19}$/);
    expect(typeof span.kind).toBe('number');
  });

  it('accepts snake_case keys, numbers for 64-bit integers and ignores unknown keys', () => {
    const request = {
      resource_spans: [
        {
          scope_spans: [
            {
              spans: [
                {
                  trace_id: '0af7651916cd43dd8448eb211c80319c',
                  span_id: 'b7ad6b7169203331',
                  name: 'x',
                  start_time_unix_nano: 1_700_000_000_000,
                  end_time_unix_nano: '1700000000000000123',
                  kind: 2,
                  somethingNew: { a: 1 },
                },
              ],
            },
          ],
        },
      ],
    };
    const decoded = decodeRequest('traces', jsonToProtobuf('traces', request).bytes);
    const span = decoded.resourceSpans![0].scopeSpans![0].spans![0];
    expect(Buffer.from(span.traceId!).toString('hex')).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(String(span.endTimeUnixNano)).toBe('1700000000000000123');
    expect(span.kind).toBe(2);
  });

  it.each([
    [{ resourceSpans: {} }, 'resourceSpans: expected an array'],
    [{ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'xyz' }] }] }] }, 'traceId: expected 32 hex characters'],
    [{ resourceSpans: [{ scopeSpans: [{ spans: [{ spanId: 'abcd' }] }] }] }, 'spanId: expected 16 hex characters'],
    [
      { resourceSpans: [{ scopeSpans: [{ spans: [{ startTimeUnixNano: 'soon' }] }] }] },
      'startTimeUnixNano: expected a non-negative 64-bit integer',
    ],
    [{ resourceSpans: [{ scopeSpans: [{ spans: [{ kind: 'SERVER' }] }] }] }, 'kind: expected an integer'],
    [{ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 7 }] }] }] }, 'name: expected a string'],
    [[], 'request: expected an object'],
  ])('refuses %j naming the path', (request, message) => {
    expect(() => jsonToProtobuf('traces', request)).toThrow(OtlpJsonError);
    expect(() => jsonToProtobuf('traces', request)).toThrow(message);
  });
});

describe('validateRequest', async () => {
  const fixtures = await sdkRequests({ spans: 4, series: 2, logs: 3 });

  it('counts concatenated requests as one', () => {
    const { protobuf, items } = fixtures.traces;
    const twice = Buffer.concat([protobuf, protobuf]);
    expect(validateRequest('traces', twice)).toBe(2 * items);
    expect(decodeRequest('traces', twice).resourceSpans).toHaveLength(2);
  });

  it('refuses every truncation of a valid request', () => {
    const { protobuf } = fixtures.logs;
    let refused = 0;
    for (let cut = 1; cut < protobuf.length; cut++) {
      try {
        validateRequest('logs', protobuf.subarray(0, cut));
      } catch (error) {
        expect(error).toBeInstanceOf(WireFormatError);
        refused++;
      }
    }
    // A cut exactly between two top-level fields leaves a shorter valid request; every other cut is refused.
    expect(refused).toBeGreaterThan(protobuf.length - 5);
  });

  it('refuses a field of the wrong wire type and garbage', () => {
    // ExportTraceServiceRequest field 1 as a varint instead of a message.
    expect(() => validateRequest('traces', Uint8Array.from([0x08, 0x01]))).toThrow(WireFormatError);
    expect(() => validateRequest('metrics', Buffer.from('this is not protobuf at all'))).toThrow(WireFormatError);
  });

  it('accepts an empty request with no items', () => {
    expect(validateRequest('metrics', new Uint8Array())).toBe(0);
  });
});
