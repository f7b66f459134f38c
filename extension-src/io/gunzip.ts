/**
 * gzip decompression with a bound on the output, on Node.js and on LLRT.
 *
 * Node.js stops inflating at `maxOutputLength`. LLRT's zlib has no such
 * option and inflates one-shot, so the bound is first checked against the
 * size the gzip trailer declares (ISIZE, the last 4 bytes): an honest
 * client's bomb is refused before anything is inflated. A trailer that lies
 * is caught after inflating (the output is measured), which bounds the memory
 * by deflate's largest ratio (about 1032:1) times the body limit; the body
 * comes from the function's own process on loopback.
 */
import { gunzip } from 'node:zlib';

export class DecompressedTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`decompressed body larger than ${limit} bytes`);
  }
}

/** Smallest gzip member: 10-byte header, empty deflate block, 8-byte trailer. */
const MIN_GZIP_BYTES = 18;

/** Inflates a gzip body; rejects with DecompressedTooLargeError past `limit`, or the engine's error for bad data. */
export function gunzipLimited(data: Buffer, limit: number): Promise<Buffer> {
  if (data.length >= MIN_GZIP_BYTES && data.readUInt32LE(data.length - 4) > limit) {
    return Promise.reject(new DecompressedTooLargeError(limit));
  }
  return new Promise((resolve, reject) =>
    gunzip(data, { maxOutputLength: limit }, (error, out) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        reject(code === 'ERR_BUFFER_TOO_LARGE' ? new DecompressedTooLargeError(limit) : error);
      } else if (out.length > limit) {
        reject(new DecompressedTooLargeError(limit));
      } else {
        resolve(Buffer.isBuffer(out) ? out : Buffer.from(out));
      }
    }),
  );
}
