/**
 * Checks that bytes are a well-formed OTLP export request, and counts its
 * items, in one pass over the wire format with no objects built: every
 * field's framing, every known field's wire type (packed numbers accepted),
 * every nested message down to attribute values. What passes can be
 * forwarded as bytes, and concatenated with other requests of its signal.
 */

import { WireFormatError } from '../wire/error.js';
import { ITEM_TYPES, messageIndex, REQUEST_TYPE, WIRE_TYPE } from './schema.js';
import type { Signal } from './types.js';

/** Per message type: expected wire type by field number, and sub-message type names; built once. */
interface Plan {
  readonly wire: Int8Array;
  readonly sub: (string | undefined)[];
  readonly repeatedScalar: Uint8Array;
  readonly item: boolean;
}

const PLANS = new Map<string, Plan>();

function plan(type: string): Plan {
  let p = PLANS.get(type);
  if (p) return p;
  const fields = [...messageIndex(type).byNumber.values()];
  const size = Math.max(...fields.map((f) => f.no)) + 1;
  const wire = new Int8Array(size).fill(-1);
  const sub: (string | undefined)[] = new Array(size);
  const repeatedScalar = new Uint8Array(size);
  for (const f of fields) {
    wire[f.no] = WIRE_TYPE[f.kind];
    if (f.kind === 'message') sub[f.no] = f.type;
    if (f.repeated && WIRE_TYPE[f.kind] !== 2) repeatedScalar[f.no] = 1;
  }
  p = { wire, sub, repeatedScalar, item: ITEM_TYPES.has(type) };
  PLANS.set(type, p);
  return p;
}

const MAX_DEPTH = 64;

function walk(type: string, buf: Uint8Array, start: number, end: number, depth: number): number {
  if (depth > MAX_DEPTH) throw new WireFormatError('messages nested too deeply');
  const p = plan(type);
  let items = p.item ? 1 : 0;
  let pos = start;
  while (pos < end) {
    // Tag varint (field numbers in OTLP are small; up to 5 bytes allowed).
    let tag = 0;
    let shift = 1;
    for (let i = 0; ; i++) {
      if (pos >= end || i >= 5) throw new WireFormatError('truncated or oversized field tag');
      const b = buf[pos++];
      tag += (b & 0x7f) * shift;
      if (b < 0x80) break;
      shift *= 128;
    }
    const no = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (no === 0) throw new WireFormatError('field number 0');
    const expected = no < p.wire.length ? p.wire[no] : -1;
    if (expected !== -1 && wireType !== expected && !(wireType === 2 && p.repeatedScalar[no] === 1)) {
      throw new WireFormatError(`${type} field ${no} has wire type ${wireType}, expected ${expected}`);
    }
    switch (wireType) {
      case 0: {
        let i = 0;
        while (true) {
          if (pos >= end || i >= 10) throw new WireFormatError('truncated varint');
          i++;
          if (buf[pos++] < 0x80) break;
        }
        break;
      }
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        let length = 0;
        let mul = 1;
        for (let i = 0; ; i++) {
          if (pos >= end || i >= 5) throw new WireFormatError('truncated length');
          const b = buf[pos++];
          length += (b & 0x7f) * mul;
          if (b < 0x80) break;
          mul *= 128;
        }
        const next = pos + length;
        if (next > end) throw new WireFormatError(`${type} field ${no} runs past the end of its message`);
        const subType = expected === 2 ? p.sub[no] : undefined;
        if (subType) items += walk(subType, buf, pos, next, depth + 1);
        pos = next;
        break;
      }
      default:
        throw new WireFormatError(`unsupported wire type ${wireType}`);
    }
    if (pos > end) throw new WireFormatError(`${type} field ${no} runs past the end of its message`);
  }
  return items;
}

/** Items (spans, data points, log records) in a valid request; throws WireFormatError otherwise. */
export function validateRequest(signal: Signal, bytes: Uint8Array): number {
  return walk(REQUEST_TYPE[signal], bytes, 0, bytes.length, 0);
}
