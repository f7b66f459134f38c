/**
 * Instant PromQL queries against the Prometheus HTTP API, plain (a local
 * Prometheus) or signed with SigV4 for service "aps" (an Amazon Managed
 * Service for Prometheus workspace's query endpoint).
 */
import type { RequestSigner } from '../extension-src/aws/sigv4.js';

export class BackendError extends Error {}

/** One sample, or why there is none. */
export type QueryOutcome =
  | { readonly kind: 'value'; readonly value: number }
  | { readonly kind: 'none' }
  | { readonly kind: 'many'; readonly count: number }
  | { readonly kind: 'histogram' };

/** RFC 3986 escaping, as SigV4 canonicalises query strings ('+' and spaces stay unambiguous). */
function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

interface ApiBody {
  status?: string;
  error?: string;
  errorType?: string;
  data?: { resultType?: string; result?: unknown };
}

export class PrometheusQueryClient {
  /** `base` is the URL the API paths go under: http://host:9090/ or an AMP workspace's prometheusEndpoint. */
  constructor(
    readonly base: URL,
    private readonly signer?: RequestSigner,
    private readonly timeoutMs = 10_000,
    /** Sent with every query (a tenant header for Cortex). */
    private readonly extraHeaders: Readonly<Record<string, string>> = {},
  ) {}

  private url(params: Record<string, string>): URL {
    const path = `${this.base.pathname.replace(/\/+$/, '')}/api/v1/query`;
    const query = Object.entries(params)
      .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`)
      .join('&');
    return new URL(`${this.base.protocol}//${this.base.host}${path}?${query}`);
  }

  async query(promql: string, timeSec: number): Promise<QueryOutcome> {
    const url = this.url({ query: promql, time: timeSec.toFixed(3) });
    const headers: Record<string, string> = { ...this.extraHeaders, accept: 'application/json' };
    const signed = this.signer
      ? await this.signer.sign({ method: 'GET', url, headers, body: new Uint8Array(0) })
      : headers;
    // fetch sets host itself (from the same URL the signature covers).
    const { host: _host, ...sendHeaders } = signed;
    let res: Response;
    try {
      res = await fetch(url, { headers: sendHeaders, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new BackendError(`cannot reach the query API at ${this.base.origin}: ${why}`);
    }
    const text = await res.text();
    let body: ApiBody | undefined;
    try {
      body = JSON.parse(text) as ApiBody;
    } catch {
      body = undefined;
    }
    if (res.status === 401 || res.status === 403) {
      throw new BackendError(
        `the query API at ${this.base.origin} refused the request (HTTP ${res.status}): ${text.trim().slice(0, 200)}${
          this.signer ? ' (the credentials need aps:QueryMetrics on the workspace)' : ''
        }`,
      );
    }
    if (body?.status !== 'success') {
      if (res.status === 400 || res.status === 422) {
        // A bad expression is the caller's to fix, not the backend's failure.
        throw new QueryError(body?.error ?? text.trim().slice(0, 200));
      }
      throw new BackendError(
        `the query API at ${this.base.origin} answered HTTP ${res.status}: ${(body?.error ?? text).trim().slice(0, 200)}`,
      );
    }
    const { resultType, result } = body.data ?? {};
    if (resultType === 'scalar') return { kind: 'value', value: Number((result as [number, string])[1]) };
    if (resultType !== 'vector') throw new QueryError(`returns a ${resultType}, not an instant vector`);
    const vector = result as { value?: [number, string]; histogram?: unknown }[];
    if (vector.length === 0) return { kind: 'none' };
    if (vector.length > 1) return { kind: 'many', count: vector.length };
    if (!vector[0].value) return { kind: 'histogram' };
    return { kind: 'value', value: Number(vector[0].value[1]) };
  }
}

/** The expression itself is wrong (bad PromQL, a range vector, ...). */
export class QueryError extends Error {}
