// An ES module handler: top-level await works, and so do named exports.
import { randomUUID } from 'node:crypto';

const startedAt = await Promise.resolve(Date.now());

export async function handler(event) {
  const items = Array.isArray(event?.items) ? event.items : [];
  return {
    statusCode: 200,
    body: JSON.stringify({ orderId: randomUUID(), items: items.length, warmSince: startedAt }),
  };
}
