/**
 * Structure-aware JSON mutation: one node of the parsed tree is replaced by a
 * value of another type, an extreme number or string, a long array of copies
 * of itself, deep nesting, or removed; keys are renamed (snake_case, unknown).
 * Serialised text is sometimes cut or salted too.
 */
import type { Rng } from './rng.js';

/** Inputs larger than this are not built (they only slow the run down). */
const MAX_TEXT = 4 * 1024 * 1024;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function paths(value: Json, out: { parent: Json[] | Record<string, Json>; key: string | number }[] = []) {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push({ parent: value, key: i });
      paths(v, out);
    });
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push({ parent: value, key: k });
      paths(v, out);
    }
  }
  return out;
}

function oddValue(rng: Rng, current: Json): Json {
  switch (rng.int(15)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 1e308, -1e308, 2 ** 53 + 1, 5e-324, 0.1, 4294967296]);
    case 3:
      return rng.pick(['', 'NaN', 'Infinity', '-1', '18446744073709551616', '1e400', '0x10', 'zz', '\u0000']);
    case 4:
      return 'x'.repeat(rng.pick([1000, 65_536, 1 << 20]));
    case 5:
      return [];
    case 6:
      return {};
    case 7: {
      const n = rng.pick([10, 1000, 10_000]);
      return Array.from({ length: n }, () => current);
    }
    case 8: {
      let nested: Json = current;
      for (let i = 0, n = rng.pick([50, 1000, 5000]); i < n; i++)
        nested = rng.chance(0.5) ? [nested] : { value: nested };
      return nested;
    }
    case 9:
      return typeof current === 'string' ? Number(current) || current.length : String(current);
    case 10:
      return { stringValue: 'v', intValue: '1', arrayValue: { values: [current] } };
    case 11:
      return rng.pick(['2022-12-13T00:00:00.000Z', 'not a date', '1970-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z']);
    case 12:
      return rng.pick([
        'platform.start',
        'platform.runtimeDone',
        'platform.report',
        'function',
        'extension',
        'platform.logsDropped',
      ]);
    case 13:
      // A fresh id: new request ids open new invocation records.
      return `${typeof current === 'string' ? current.slice(0, 8) : 'id'}-${rng.int(1 << 30).toString(36)}`;
    default:
      return Array.isArray(current) ? current.concat(current) : current;
  }
}

export function mutateJson(rng: Rng, input: Uint8Array, other?: Uint8Array): Uint8Array | undefined {
  let tree: Json;
  try {
    tree = JSON.parse(Buffer.from(input).toString('utf8')) as Json;
  } catch {
    return undefined;
  }
  const all = paths(tree);
  if (all.length === 0) return undefined;
  const { parent, key } = rng.pick(all);
  const get = () => (parent as Record<string | number, Json>)[key];
  const set = (v: Json) => {
    (parent as Record<string | number, Json>)[key] = v;
  };
  switch (rng.int(5)) {
    case 0:
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
      break;
    case 1:
      if (!Array.isArray(parent)) {
        const v = get();
        delete parent[key as string];
        const k = key as string;
        parent[rng.pick([k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), `${k}x`, '__proto__', 'constructor', ''])] =
          v;
      }
      break;
    case 2: {
      let donor: Json | undefined;
      try {
        donor = other ? (JSON.parse(Buffer.from(other).toString('utf8')) as Json) : undefined;
      } catch {
        donor = undefined;
      }
      const donorPaths = donor !== undefined ? paths(donor) : [];
      if (donorPaths.length > 0) {
        const d = rng.pick(donorPaths);
        set((d.parent as Record<string | number, Json>)[d.key]);
      }
      break;
    }
    default:
      set(oddValue(rng, get()));
  }
  let text: string;
  try {
    text = JSON.stringify(tree);
  } catch {
    // Nesting deeper than the stack: not a useful input to build.
    return undefined;
  }
  if (text.length > MAX_TEXT) return undefined;
  if (rng.chance(0.05)) text = text.slice(0, rng.int(text.length + 1));
  return Buffer.from(text);
}
