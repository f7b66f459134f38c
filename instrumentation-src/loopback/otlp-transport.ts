/**
 * The OTLP/HTTP exporters' transport for an endpoint on this host (the
 * extension's receiver): the SDK's exporter keeps its serializer, export queue
 * and result handling, and this takes the place of its node:http transport,
 * sending each serialized request over the process's kept-alive loopback
 * connection (./connection.ts). It maps answers as the SDK's transport does
 * (2xx success; 429, 502, 503, 504 retryable; others failure), without retries:
 * the end-of-invocation flush is bounded, a retry would land after it. A
 * failure is an export result (reported once on stderr), never an exception.
 * Tracing is suppressed around the send, so an instrumentation of `net`, if a
 * function enables one, does not trace the export either.
 */
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { type ExportResponse, type IExporterTransport, OTLPExporterError } from '@opentelemetry/otlp-exporter-base';
import { describeError, warnOnce } from '../log.js';
import { type LoopbackConnection, loopbackConnection, loopbackTarget, requestHead } from './connection.js';

const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);

export class LoopbackOtlpTransport implements IExporterTransport {
  private head: string | undefined;
  private readonly connection: LoopbackConnection;

  /** `url` must be a loopback http: URL (see loopbackTarget); `headers` is the exporter's header factory. */
  constructor(
    private readonly url: string,
    private readonly headers: () => Promise<Record<string, string>>,
  ) {
    const target = loopbackTarget(url);
    if (!target) throw new Error(`not a loopback http: endpoint: ${url}`);
    this.connection = loopbackConnection(target.host, target.port);
  }

  async send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    try {
      // The headers come from the environment and do not change: built once.
      this.head ??= requestHead(this.url, await this.headers());
      const head = `${this.head}Content-Length: ${data.length}\r\n\r\n`;
      const answer = await context.with(suppressTracing(context.active()), () =>
        this.connection.send(head, data, timeoutMillis),
      );
      const response = toExportResponse(answer);
      if (response.status !== 'success') this.report(response.error);
      return response;
    } catch (error) {
      this.report(error);
      return { status: 'failure', error: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  shutdown(): void {
    // The connection is shared with the other exporters and the flushed notice, and holds nothing open.
  }

  private report(error: unknown): void {
    warnOnce(
      `export:${this.url}`,
      `exporting to ${this.url} failed (later failures are not reported): ${describeError(error)}`,
    );
  }
}

function toExportResponse(answer: Awaited<ReturnType<LoopbackConnection['send']>>): ExportResponse {
  if (!answer.ok) return { status: 'failure', error: answer.error };
  if (answer.status >= 200 && answer.status <= 299) return { status: 'success', data: answer.body };
  const error = new OTLPExporterError(answer.reason, answer.status, answer.body.toString('utf8'));
  if (RETRYABLE_STATUSES.has(answer.status))
    return { status: 'retryable', error, retryInMillis: retryAfterMs(answer.headers) };
  return { status: 'failure', error };
}

function retryAfterMs(headers: string): number | undefined {
  const value = /(^|\n)retry-after:[ \t]*([^\r\n]*)/.exec(headers)?.[2].trim();
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}
