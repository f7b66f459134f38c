/**
 * What a backend's answer means, per protocol: 2xx is delivered everywhere;
 * the protocols differ in which failures may pass (retryable) and which are
 * final (rejected: retrying the same request would get the same answer).
 */
export type Verdict = 'delivered' | 'rejected' | 'retryable';

/** Reads an answer's status and, for a failure, its body (a backend may say in words whether a retry can pass). */
export type AnswerClassifier = (status: number, body?: string) => Verdict;

/** 2xx delivered; a failure retryable when `retryable` says so, else rejected. */
export function retryingOn(retryable: (status: number, body: string) => boolean): AnswerClassifier {
  return (status, body) =>
    status >= 200 && status < 300 ? 'delivered' : retryable(status, body ?? '') ? 'retryable' : 'rejected';
}

/** OTLP/HTTP: "429, 502, 503 and 504 are retryable"; every other status is final. */
export const OTLP_STATUS = retryingOn((status) => status === 429 || status === 502 || status === 503 || status === 504);

/** Remote write 1.0 (and the Pushgateway): every 5xx; 429 too, as Prometheus does with retry_on_http_429. */
export const REMOTE_WRITE_STATUS = retryingOn((status) => status === 429 || status >= 500);

/** OpenSearch / Elasticsearch `_bulk`: 429 (back-pressure) and 5xx, for a whole request and for each item. */
export const BULK_STATUS = retryingOn((status) => status === 429 || (status >= 500 && status < 600));
