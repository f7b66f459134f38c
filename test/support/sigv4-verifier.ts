/**
 * Checks AWS Signature Version 4 on a received request, written from the
 * published algorithm with node:crypto alone (independent of the signer under
 * test), the way an AWS endpoint would: it rebuilds the canonical request from
 * what arrived and compares signatures.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface ReceivedRequest {
  method: string;
  /** Path and query as received, e.g. "/workspaces/ws-1/api/v1/remote_write?x=1". */
  rawUrl: string;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

export type Verdict = { ok: true; accessKeyId: string; scope: string } | { ok: false; reason: string };

const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function canonicalRequest(req: ReceivedRequest, signedHeaders: string[]): string {
  const [rawPath, rawQuery = ''] = req.rawUrl.split('?', 2);
  // Non-S3 services encode each (already encoded) path segment once more.
  const path = rawPath
    .split('/')
    .map((segment) => rfc3986(segment))
    .join('/');
  const query = rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const [k, v = ''] = p.split('=', 2);
      return [rfc3986(decodeURIComponent(k)), rfc3986(decodeURIComponent(v))] as const;
    })
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headerLines = signedHeaders.map((name) => {
    const value = req.headers[name];
    const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
    return `${name}:${joined.trim().replace(/\s+/g, ' ')}\n`;
  });
  return [req.method, path, query, headerLines.join(''), signedHeaders.join(';'), sha256Hex(req.body)].join('\n');
}

export function verifySigV4(req: ReceivedRequest, secrets: Record<string, string>): Verdict {
  const auth = String(req.headers.authorization ?? '');
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!match) return { ok: false, reason: `malformed authorization header: ${auth}` };
  const [, accessKeyId, date, region, service, signedHeaderList, signature] = match;
  const secret = secrets[accessKeyId];
  if (!secret) return { ok: false, reason: `unknown access key ${accessKeyId}` };
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(date)) return { ok: false, reason: 'x-amz-date does not match the credential scope date' };
  const signedHeaders = signedHeaderList.split(';');
  if (!signedHeaders.includes('host')) return { ok: false, reason: 'host is not signed' };
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest(req, signedHeaders))].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) return { ok: false, reason: 'signature mismatch' };
  return { ok: true, accessKeyId, scope };
}
