/** Free loopback TCP ports, so many environments run side by side. */
import { createServer } from 'node:net';

/**
 * A port the kernel has just handed out on 127.0.0.1. Another process could
 * take it before it is used; the ephemeral range makes that unlikely.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
