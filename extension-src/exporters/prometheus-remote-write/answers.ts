/**
 * What a remote write backend's refusal means, read from Cortex's answers
 * (Amazon Managed Service for Prometheus is built on Cortex and answers with
 * Cortex's messages; Prometheus's own receiver uses the same TSDB words).
 *
 * - 2xx: stored.
 * - 5xx: the backend failed; retry (remote write 1.0).
 * - 429 "ingestion rate limit (…) exceeded while adding N samples": the
 *   workspace's token bucket is empty, or the request is larger than its
 *   burst (then it can never pass whole). Retry later, in smaller requests.
 * - 429 (AMP) or 400 (Cortex) "per-user series limit", "per-metric series
 *   limit": the workspace holds too many active series. Retrying cannot help
 *   until series age out (hours); Prometheus keeps retrying a 429 until
 *   `sample_age_limit`, which Lambda's short lives never reach, so the
 *   samples are refused at once and counted.
 * - any other 4xx: refused. Cortex validates each series on its own and
 *   stores the request's other series before answering 400 with the first
 *   refusal's text, so a refusal may be partial.
 */

/** Why the backend refused samples; the names go into the `samplesDropped` counters. */
export type RefusalReason =
  | 'out_of_order'
  | 'duplicate_timestamp'
  | 'too_old'
  | 'series_limit'
  | 'metadata_limit'
  | 'label_limit'
  | 'rejected';

export type RemoteWriteAnswer =
  | { readonly kind: 'stored' }
  | { readonly kind: 'retry' }
  /** Over the ingestion rate; `limit` is the samples per second the backend named, if it did. */
  | { readonly kind: 'rate_limited'; readonly limit?: number }
  | { readonly kind: 'refused'; readonly reason: RefusalReason };

const REFUSALS: readonly [RegExp, RefusalReason][] = [
  [/out of order sample|out-of-order sample/i, 'out_of_order'],
  [/duplicate sample for timestamp/i, 'duplicate_timestamp'],
  [/too old|out of bounds|too far in (the )?future/i, 'too_old'],
  [/series limit/i, 'series_limit'],
  [/metadata limit|metadata per (user|metric)/i, 'metadata_limit'],
  [/label|metric name/i, 'label_limit'],
];

/** The meaning of one answer: its status and (the start of) its body. */
export function classifyAnswer(status: number, body: string): RemoteWriteAnswer {
  if (status >= 200 && status < 300) return { kind: 'stored' };
  if (status >= 500) return { kind: 'retry' };
  const refusal = REFUSALS.find(([pattern]) => pattern.test(body))?.[1];
  if (status === 429) {
    if (refusal === 'series_limit' || refusal === 'metadata_limit') return { kind: 'refused', reason: refusal };
    const limit = /ingestion rate limit \(([\d.]+)\)/i.exec(body)?.[1];
    return { kind: 'rate_limited', limit: limit === undefined ? undefined : Number(limit) };
  }
  return { kind: 'refused', reason: refusal ?? 'rejected' };
}
