/**
 * The OTLP/HTTP exporters' transport for an endpoint on this host (the
 * extension's receiver): the SDK's exporter keeps its serializer, export queue
 * and result handling, and this takes the place of its node:http transport,
 * sending each serialized request over the process's kept-alive loopback
 * connection (./connection.ts).
 *
 * An export succeeds once its bytes are all in the kernel: the receiver on
 * this host reads them even if the function's environment freezes right after
 * the handler returns, so the end-of-invocation flush does not wait a round
 * trip for the answer. The answer is read when it comes; a refusal (not 2xx)
 * or a connection lost before the answer is reported on stderr then (one line
 * per kind), and nothing is sent again (no duplicates). A connect failure or a
 * write that cannot complete is a failed export result, never an exception,
 * and is not retried either: the end-of-invocation flush is bounded.
 * Tracing is suppressed around the send, so an instrumentation of `net`, if a
 * function enables one, does not trace the export either.
 */
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { ExportResponse, IExporterTransport } from '@opentelemetry/otlp-exporter-base';
import { describeError, warnOnce } from '../log.js';
import { type Answer, type LoopbackConnection, loopbackConnection, loopbackTarget, requestHead } from './connection.js';

const SUCCESS: ExportResponse = { status: 'success' };

export class LoopbackOtlpTransport implements IExporterTransport {
  private head: string | undefined;
  private readonly connection: LoopbackConnection;
  private readonly onAnswer = (answer: Answer) => this.checkAnswer(answer);

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
      const written = await context.with(suppressTracing(context.active()), () =>
        this.connection.send(head, data, timeoutMillis, this.onAnswer),
      );
      if (written.ok) return SUCCESS;
      this.report('failed', `exporting to ${this.url} failed`, written.error);
      return { status: 'failure', error: written.error };
    } catch (error) {
      this.report('failed', `exporting to ${this.url} failed`, error);
      return { status: 'failure', error: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  shutdown(): void {
    // The connection is shared with the other exporters and the flushed notice, and holds nothing open.
  }

  /** The answer to an export already counted as sent: only a refusal or a lost connection is news. */
  private checkAnswer(answer: Answer): void {
    if (!answer.ok) {
      this.report('lost', `the connection to ${this.url} ended before the answer to an export`, answer.error);
    } else if (answer.status < 200 || answer.status > 299) {
      const body = answer.body.toString('utf8', 0, Math.min(answer.body.length, 200)).replace(/\s+/g, ' ').trim();
      this.report(
        'refused',
        `${this.url} refused an export`,
        `${answer.status} ${answer.reason}${body ? `: ${body}` : ''}`,
      );
    }
  }

  private report(kind: 'failed' | 'refused' | 'lost', what: string, error: unknown): void {
    const detail = typeof error === 'string' ? error : describeError(error);
    warnOnce(`export:${kind}:${this.url}`, `${what} (later ones are not reported): ${detail}`);
  }
}
