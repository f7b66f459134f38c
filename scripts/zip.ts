/**
 * A minimal, deterministic zip writer (PKWARE APPNOTE 6.3: local headers,
 * central directory, end record; deflate via node:zlib): the same inputs give
 * the same bytes on every machine, so the layer asset hash only changes when
 * the extension does. Timestamps are fixed, entries are sorted, Unix modes
 * are kept (the extension must be executable in /opt/extensions).
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipEntry {
  /** Path inside the archive, with `/` separators; directories end with `/`. */
  readonly path: string;
  readonly data?: Uint8Array;
  /** Unix permission bits, e.g. 0o755. */
  readonly mode: number;
}

/** 1980-01-01 00:00:00, the earliest DOS date: no build time leaks into the archive. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const VERSION_MADE_BY = (3 << 8) | 20; // Unix, spec 2.0
const VERSION_NEEDED = 20;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;

export function createZip(input: readonly ZipEntry[]): Buffer {
  const entries = [...input].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.path, 'utf8');
    const isDir = entry.path.endsWith('/');
    const data = isDir ? new Uint8Array(0) : (entry.data ?? new Uint8Array(0));
    const deflated = data.length > 0 ? deflateRawSync(data, { level: 9 }) : Buffer.alloc(0);
    const stored = deflated.length >= data.length;
    const body = stored ? Buffer.from(data) : deflated;
    const method = stored ? 0 : 8;
    const crc = data.length > 0 ? crc32(data) : 0;
    const flags = 0x0800; // names are UTF-8

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(VERSION_NEEDED, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, body);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(VERSION_MADE_BY, 4);
    central.writeUInt16LE(VERSION_NEEDED, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(0, 30); // extra
    central.writeUInt16LE(0, 32); // comment
    central.writeUInt16LE(0, 34); // disk
    central.writeUInt16LE(0, 36); // internal attributes
    const unixMode = (isDir ? S_IFDIR : S_IFREG) | (entry.mode & 0o7777);
    // External attributes: Unix mode in the high 16 bits, MS-DOS directory bit in the low ones.
    central.writeUInt32LE(((unixMode << 16) | (isDir ? 0x10 : 0)) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0, 4);
  end.writeUInt16LE(0, 6);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(0, 20);
  return Buffer.concat([...locals, directory, end]);
}
