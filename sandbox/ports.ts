/** Loopback TCP ports: free ones, so many environments run side by side, and the extension receiver's. */
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

/** The extension's receiver ports when nothing says otherwise, as in Lambda. */
const DEFAULT_RECEIVER_PORTS = { http: 4318, grpc: 4317 };

export interface ReceiverPorts {
  /** OTLP/HTTP (OBSERVED_RECEIVER_PORT). */
  http: number;
  /** OTLP/gRPC (OBSERVED_RECEIVER_GRPC_PORT). */
  grpc: number;
}

/** The ports the function's variables name, else the defaults (`default`) or free ones (`free`). */
export async function receiverPorts(
  userEnv: Record<string, string>,
  choice: 'free' | 'default',
): Promise<ReceiverPorts> {
  const pick = async (variable: string, fallback: number) =>
    userEnv[variable] ? Number(userEnv[variable]) : choice === 'default' ? fallback : await freePort();
  return {
    http: await pick('OBSERVED_RECEIVER_PORT', DEFAULT_RECEIVER_PORTS.http),
    grpc: await pick('OBSERVED_RECEIVER_GRPC_PORT', DEFAULT_RECEIVER_PORTS.grpc),
  };
}
