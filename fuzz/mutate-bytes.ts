/** Byte-level mutations, the same kinds libFuzzer applies (flips, interesting values, splices, cuts). */
import type { Rng } from './rng.js';

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x0a, 0x12, 0x1a, 0x22, 0x08, 0x10];

export function mutateBytes(rng: Rng, input: Uint8Array, other?: Uint8Array): Uint8Array {
  const data = Buffer.from(input);
  switch (rng.int(8)) {
    case 0: {
      if (data.length === 0) return rng.bytes(rng.size(64));
      const i = rng.int(data.length);
      data[i] ^= 1 << rng.int(8);
      return data;
    }
    case 1: {
      if (data.length === 0) return rng.bytes(rng.size(64));
      data[rng.int(data.length)] = rng.pick(INTERESTING);
      return data;
    }
    case 2: {
      // Insert random bytes.
      const at = rng.int(data.length + 1);
      return Buffer.concat([data.subarray(0, at), rng.bytes(rng.size(256)), data.subarray(at)]);
    }
    case 3: {
      // Delete a range.
      if (data.length === 0) return data;
      const at = rng.int(data.length);
      return Buffer.concat([data.subarray(0, at), data.subarray(at + 1 + rng.int(data.length - at))]);
    }
    case 4:
      // Truncate.
      return data.subarray(0, rng.int(data.length + 1));
    case 5: {
      // Duplicate a range in place (repeated fields, runs of items).
      if (data.length === 0) return data;
      const at = rng.int(data.length);
      const piece = data.subarray(at, at + 1 + rng.int(Math.min(256, data.length - at)));
      const copies = Array.from({ length: 1 + rng.int(8) }, () => piece);
      return Buffer.concat([data.subarray(0, at), ...copies, data.subarray(at)]);
    }
    case 6: {
      // Splice with another input.
      if (!other || other.length === 0) return data;
      const cut = rng.int(data.length + 1);
      const from = rng.int(other.length);
      return Buffer.concat([data.subarray(0, cut), other.subarray(from)]);
    }
    default: {
      // Overwrite a 32-bit window with an extreme value (lengths, counts).
      if (data.length < 4) return data;
      const at = rng.int(data.length - 3);
      data.writeUInt32LE(rng.pick([0xffffffff, 0x7fffffff, 0x80000000, 0x00010000, 0]), at);
      return data;
    }
  }
}
