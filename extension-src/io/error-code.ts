/**
 * The errno name of a socket error (ECONNRESET, EADDRINUSE, ...). Node.js sets
 * `code`; LLRT gives only Rust's message ("Connection refused (os error 111)"),
 * whose Linux errno number is mapped here.
 */
const LINUX_ERRNO: Record<number, string> = {
  13: 'EACCES',
  32: 'EPIPE',
  97: 'EAFNOSUPPORT',
  98: 'EADDRINUSE',
  99: 'EADDRNOTAVAIL',
  101: 'ENETUNREACH',
  103: 'ECONNABORTED',
  104: 'ECONNRESET',
  110: 'ETIMEDOUT',
  111: 'ECONNREFUSED',
  113: 'EHOSTUNREACH',
};

export function errorCode(error: unknown): string | undefined {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  if (typeof e?.code === 'string') return e.code;
  const errno = /\(os error (\d+)\)/.exec(String(e?.message ?? ''));
  return errno ? LINUX_ERRNO[Number(errno[1])] : undefined;
}
