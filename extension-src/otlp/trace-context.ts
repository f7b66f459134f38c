/**
 * X-Ray trace header <-> W3C/OpenTelemetry ids.
 *
 * `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`:
 * the trace id is the 8 hex digits of the epoch plus the 24 of the random part
 * (version and dashes dropped), 32 hex digits in all, which is how the
 * OpenTelemetry X-Ray propagator maps it; Parent is a 64-bit span id.
 */
import { randomBytes } from 'node:crypto';

export interface XRayContext {
  traceId: Uint8Array;
  /** The `Parent` id, absent in headers that carry only a Root. */
  parentId?: Uint8Array;
  sampled: boolean;
}

const HEX16 = /^[0-9a-f]{16}$/i;
const HEX32 = /^[0-9a-f]{32}$/i;

export function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

export function bytesToHex(bytes: Uint8Array | undefined): string {
  return bytes ? Buffer.from(bytes).toString('hex') : '';
}

function isZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

/** A W3C trace id from an X-Ray trace id (`1-xxxxxxxx-y{24}`), or undefined when it is not one. */
export function xrayTraceIdToW3C(root: string): Uint8Array | undefined {
  const m = /^1-([0-9a-f]{8})-([0-9a-f]{24})$/i.exec(root.trim());
  if (!m) return undefined;
  const bytes = hexToBytes(m[1] + m[2]);
  return isZero(bytes) ? undefined : bytes;
}

/** A span id from 16 hex digits, or undefined. */
export function spanIdFromHex(hex: string | undefined): Uint8Array | undefined {
  if (!hex || !HEX16.test(hex)) return undefined;
  const bytes = hexToBytes(hex);
  return isZero(bytes) ? undefined : bytes;
}

/** A trace id from 32 hex digits, or undefined. */
export function traceIdFromHex(hex: string | undefined): Uint8Array | undefined {
  if (!hex || !HEX32.test(hex)) return undefined;
  const bytes = hexToBytes(hex);
  return isZero(bytes) ? undefined : bytes;
}

/** Parses an X-Ray trace header; undefined when it has no valid Root. */
export function parseXRayHeader(header: string | undefined): XRayContext | undefined {
  if (!header) return undefined;
  let traceId: Uint8Array | undefined;
  let parentId: Uint8Array | undefined;
  let sampled = false;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1).trim();
    if (key === 'root') traceId = xrayTraceIdToW3C(value);
    else if (key === 'parent') parentId = spanIdFromHex(value);
    else if (key === 'sampled') sampled = value === '1';
  }
  return traceId ? { traceId, parentId, sampled } : undefined;
}

/**
 * A trace id from whatever a log line carries: 32 hex digits (W3C), an X-Ray
 * trace id (`1-xxxxxxxx-y{24}`) or a whole X-Ray header.
 */
export function traceIdFromAny(value: unknown): Uint8Array | undefined {
  if (typeof value !== 'string') return undefined;
  return traceIdFromHex(value) ?? xrayTraceIdToW3C(value) ?? parseXRayHeader(value)?.traceId;
}

export function newSpanId(): Uint8Array {
  return Uint8Array.from(randomBytes(8));
}

export function newTraceId(): Uint8Array {
  return Uint8Array.from(randomBytes(16));
}

export function sameId(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return !!a && !!b && a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Where the function's wrapper put an invocation in its trace, as its flushed
 * notice says: the platform invoke span's ids (and its parent, the caller's
 * span, when the trace came with the event), the function's invocation span,
 * and the sampling decision.
 */
export interface FunctionTrace {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId?: Uint8Array;
  functionSpanId?: Uint8Array;
  sampled: boolean;
}

/** The trace fields of a flushed notice's JSON body; undefined when absent or not valid ids. */
export function functionTraceFromNotice(body: Record<string, unknown>): FunctionTrace | undefined {
  const traceId = traceIdFromHex(asString(body.traceId));
  const spanId = spanIdFromHex(asString(body.spanId));
  if (!traceId || !spanId) return undefined;
  return {
    traceId,
    spanId,
    parentSpanId: spanIdFromHex(asString(body.parentSpanId)),
    functionSpanId: spanIdFromHex(asString(body.functionSpanId)),
    sampled: body.sampled !== false,
  };
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
