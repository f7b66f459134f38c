/**
 * A scripted remote write endpoint for tests: decodes every request with
 * protobufjs from the remote write .proto text (independent of the exporter's
 * hand-written encoder), and answers each attempt as the test script says.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';
import snappy from 'snappyjs';

const SCHEMA = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; repeated Exemplar exemplars = 3; repeated Histogram histograms = 4; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
message Exemplar { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
message BucketSpan { sint32 offset = 1; uint32 length = 2; }
message Histogram {
  oneof count { uint64 count_int = 1; double count_float = 2; }
  double sum = 3; sint32 schema = 4; double zero_threshold = 5;
  oneof zero_count { uint64 zero_count_int = 6; double zero_count_float = 7; }
  repeated BucketSpan negative_spans = 8; repeated sint64 negative_deltas = 9; repeated double negative_counts = 10;
  repeated BucketSpan positive_spans = 11; repeated sint64 positive_deltas = 12; repeated double positive_counts = 13;
  int32 reset_hint = 14; int64 timestamp = 15;
}
message MetricMetadata { int32 type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
`;

const WriteRequest = protobuf.parse(SCHEMA).root.lookupType('prometheus.WriteRequest');

export interface DecodedWrite {
  timeseries: {
    labels: { name: string; value: string }[];
    samples?: { value: number; timestamp: number }[];
    histograms?: Record<string, unknown>[];
  }[];
  metadata?: { type: number; metricFamilyName: string; help?: string; unit?: string }[];
}

export interface Attempt {
  at: number;
  headers: IncomingHttpHeaders;
  body: DecodedWrite;
  /** The body as sent (snappy-compressed). */
  rawBody: Buffer;
  compressedBytes: number;
  uncompressedBytes: number;
}

/** `afterMs`: the answer comes that late (the request is recorded, as a backend stores it, on arrival). */
export type Answer = { status: number; headers?: Record<string, string>; body?: string; afterMs?: number };

export class ScriptedRemoteWrite {
  readonly attempts: Attempt[] = [];
  private server: Server | undefined;

  /** Answers attempt n (0-based), which carries `body`; default 204. */
  constructor(private readonly script: (n: number, body: DecodedWrite) => Answer = () => ({ status: 204 })) {}

  get url(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    return `http://127.0.0.1:${address?.port}/api/v1/write`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const compressed = Buffer.concat(chunks);
        const raw = snappy.uncompress(compressed);
        const body = WriteRequest.toObject(WriteRequest.decode(raw), {
          longs: Number,
          defaults: false,
        }) as DecodedWrite;
        const n = this.attempts.length;
        this.attempts.push({
          at: Date.now(),
          headers: req.headers,
          body,
          rawBody: compressed,
          compressedBytes: compressed.length,
          uncompressedBytes: raw.length,
        });
        const answer = this.script(n, body);
        const reply = () => {
          if (!res.destroyed) res.writeHead(answer.status, answer.headers).end(answer.body ?? '');
        };
        if (answer.afterMs === undefined) reply();
        else setTimeout(reply, answer.afterMs);
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    return this;
  }

  /** Samples received in attempts whose answer was 2xx. */
  samplesIn(attempts: Attempt[]): number {
    return attempts.reduce(
      (n, a) =>
        n + a.body.timeseries.reduce((m, ts) => m + (ts.samples?.length ?? 0) + (ts.histograms?.length ?? 0), 0),
      0,
    );
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }
}
