/**
 * AWS Signature Version 4 for HTTP requests (e.g. remote write to Amazon
 * Managed Service for Prometheus, service "aps"; OpenSearch, service "es"),
 * with the AWS SDK's signer and node:crypto hashing.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4/dist-es/index.js';
import type { AwsCredentials } from './credentials.js';

type SourceData = string | ArrayBuffer | ArrayBufferView;

function toBinary(data: SourceData): string | Buffer {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** SHA-256 / HMAC-SHA-256 in the shape the SDK's signer takes, backed by node:crypto. */
class NodeSha256 {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.hash = this.create();
  }

  private create(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBinary(this.secret));
  }

  update(data: SourceData): void {
    this.hash.update(toBinary(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.create();
  }
}

export interface SignableRequest {
  readonly method: string;
  readonly url: URL;
  /** Headers to send; `host` is added from the URL. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

export class RequestSigner {
  constructor(
    private readonly service: string,
    private readonly region: string,
    private readonly credentials: () => AwsCredentials | undefined,
  ) {}

  /** Returns the headers to send: the given ones plus host, x-amz-date, x-amz-security-token and authorization. */
  async sign(request: SignableRequest, now: Date = new Date()): Promise<Record<string, string>> {
    const credentials = this.credentials();
    if (!credentials)
      throw new Error('no AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)');
    const signer = new SignatureV4({
      service: this.service,
      region: this.region,
      credentials,
      sha256: NodeSha256,
      // Sign the payload hash without an x-amz-content-sha256 header, as Prometheus's own SigV4 does.
      applyChecksum: false,
    });
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of request.url.searchParams) {
      const existing = query[k];
      query[k] = existing === undefined ? v : Array.isArray(existing) ? [...existing, v] : [existing, v];
    }
    const signed = await signer.sign(
      {
        method: request.method,
        protocol: request.url.protocol,
        hostname: request.url.hostname,
        port: request.url.port ? Number(request.url.port) : undefined,
        path: request.url.pathname,
        query,
        headers: { ...request.headers, host: request.url.host },
        body: request.body,
      },
      { signingDate: now },
    );
    return signed.headers as Record<string, string>;
  }
}
