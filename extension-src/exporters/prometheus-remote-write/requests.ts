/**
 * Cutting queued series into remote write requests: each request within the
 * sample and uncompressed byte limits (metadata included), a series too large
 * for one request sent in parts, and the series spread over send shards so a
 * few requests are on the wire at once while each series stays in one shard
 * (its samples then still arrive in time order, as remote write requires).
 */
import type { MetricFamily } from '../../translate/series.js';
import type { WireWriter } from '../../wire/writer.js';
import { compress, type LabelBlockCache, writeMetadata, writeSeries } from './encode.js';
import { type PendingSeries, tally } from './series-queue.js';

export interface Batch {
  readonly body: Uint8Array;
  readonly series: PendingSeries[];
  /** Points in the request, staleness markers included. */
  readonly samples: number;
  /** Of which staleness markers. */
  readonly markers: number;
  /** Of the samples, those sent before in a request that got no answer. */
  readonly unconfirmed: number;
}

export interface RequestLimits {
  readonly maxSamples: number;
  readonly maxBytes: number;
}

export function shardBySeries(series: Iterable<PendingSeries>, shards: number): PendingSeries[][] {
  if (shards === 1) return [[...series]];
  const out: PendingSeries[][] = Array.from({ length: shards }, () => []);
  for (const s of series) {
    let h = 0;
    for (let i = 0; i < s.key.length; i++) h = (Math.imul(h, 31) + s.key.charCodeAt(i)) | 0;
    out[(h >>> 0) % shards].push(s);
  }
  return out.filter((shard) => shard.length > 0);
}

/** Cuts the series into requests within the limits; `writer` is reset and reused. */
export function cutRequests(
  series: Iterable<PendingSeries>,
  limits: RequestLimits,
  w: WireWriter,
  labelBlocks: LabelBlockCache,
): Batch[] {
  const { maxSamples, maxBytes } = limits;
  const out: Batch[] = [];
  let current: PendingSeries[] = [];
  let samples = 0;
  let markers = 0;
  let unconfirmed = 0;
  let families = new Map<string, MetricFamily>();
  let metadataBytes = 0;
  w.reset();
  const finish = () => {
    if (current.length === 0) return;
    for (const f of families.values()) writeMetadata(w, f);
    out.push({ body: compress(w.bytes()), series: current, samples, markers, unconfirmed });
    w.reset();
    current = [];
    samples = 0;
    markers = 0;
    unconfirmed = 0;
    families = new Map();
    metadataBytes = 0;
  };
  for (const s of series) {
    let points = s.points;
    let take = Math.min(points.length, maxSamples);
    while (points.length > 0) {
      if (samples + take > maxSamples) {
        if (current.length > 0) finish();
        take = Math.min(take, maxSamples);
      }
      const slice = take === points.length ? points : points.slice(0, take);
      const newFamily = !families.has(s.family.name);
      const extraMetadata = newFamily
        ? 24 + (s.family.name.length + s.family.help.length + s.family.unit.length) * 3
        : 0;
      const before = w.pos;
      writeSeries(w, { key: s.key, labels: s.labels, points: slice }, labelBlocks);
      if (w.pos + metadataBytes + extraMetadata > maxBytes) {
        if (current.length > 0) {
          w.pos = before;
          finish();
          continue;
        }
        if (take > 1) {
          // A single series too large for one request: send it in halves.
          w.pos = before;
          take = Math.ceil(take / 2);
          continue;
        }
      }
      if (newFamily) {
        families.set(s.family.name, s.family);
        metadataBytes += extraMetadata;
      }
      current.push({ ...s, points: slice });
      samples += slice.length;
      const counted = tally(slice);
      markers += counted.markers;
      unconfirmed += counted.unconfirmed;
      points = slice.length === points.length ? [] : points.slice(slice.length);
      take = Math.min(points.length, maxSamples);
    }
  }
  finish();
  return out;
}
