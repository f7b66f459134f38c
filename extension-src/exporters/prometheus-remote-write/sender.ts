/**
 * Sending one remote write request: the headers remote write 1.0 requires,
 * the user's extra headers (a tenant header for Cortex), a SigV4 signature
 * for Amazon Managed Service for Prometheus made anew for each attempt, and
 * the retries inside the flush deadline (../transport/retrying.ts).
 */
import { credentialsFromEnv } from '../../aws/credentials.js';
import { RequestSigner } from '../../aws/sigv4.js';
import { type AnswerClassifier, REMOTE_WRITE_STATUS } from '../transport/classify.js';
import { type RetryPolicy, type SendResult, sendWithRetry } from '../transport/retrying.js';
import { type HttpCall, userAgent } from '../transport/send.js';
import type { RemoteWriteOptions } from './config.js';

export class RemoteWriteSender {
  private readonly signer: RequestSigner | undefined;

  constructor(
    private readonly options: RemoteWriteOptions,
    private readonly retry: RetryPolicy,
    env: NodeJS.ProcessEnv,
    private readonly extraHeaders: () => Readonly<Record<string, string>> = () => ({}),
  ) {
    if (options.sigv4Region) {
      this.signer = new RequestSigner('aps', options.sigv4Region, () => credentialsFromEnv(env));
    }
  }

  send(
    body: Uint8Array,
    deadlineMs: number,
    maxAttempts: number | undefined,
    onRetry: (reason: string) => void,
    classify: AnswerClassifier = REMOTE_WRITE_STATUS,
  ): Promise<SendResult> {
    return sendWithRetry(this.call(body), classify, deadlineMs, { ...this.retry, maxAttempts }, { onRetry });
  }

  private call(body: Uint8Array): HttpCall {
    const url = this.options.url;
    const base: Record<string, string> = {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
      'user-agent': userAgent(),
      ...this.options.headers,
      ...this.extraHeaders(),
    };
    const { timeoutMs } = this.options;
    const signer = this.signer;
    if (!signer) return { url, body, timeoutMs, headers: () => base };
    return { url, body, timeoutMs, headers: () => signer.sign({ method: 'POST', url, headers: base, body }) };
  }
}
