import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { credentialsFromEnv, regionFromEnv } from '../../../extension-src/aws/credentials.js';
import { RequestSigner } from '../../../extension-src/aws/sigv4.js';
import { verifySigV4 } from '../../support/sigv4-verifier.js';

// AWS's published SigV4 test suite credentials and the "get-vanilla" case.
const SUITE = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const GET_VANILLA_AUTHORIZATION =
  'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, ' +
  'SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31';

describe('SigV4 signing', () => {
  it('matches the AWS get-vanilla test vector', async () => {
    const signer = new RequestSigner('service', 'us-east-1', () => SUITE);
    const headers = await signer.sign(
      { method: 'GET', url: new URL('https://example.amazonaws.com/'), headers: {}, body: new Uint8Array() },
      new Date('2015-08-30T12:36:00Z'),
    );
    expect(headers.authorization).toBe(GET_VANILLA_AUTHORIZATION);
    expect(headers['x-amz-date']).toBe('20150830T123600Z');
  });

  it('signs a remote write POST that an independent verifier accepts, and the verifier rejects a tampered body', async () => {
    const env = {
      AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret/with+chars',
      AWS_SESSION_TOKEN: 'token-1',
      AWS_REGION: 'eu-west-1',
    };
    const received: { method: string; rawUrl: string; headers: IncomingMessage['headers']; body: Buffer }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          method: req.method ?? '',
          rawUrl: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks),
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const url = new URL(`http://127.0.0.1:${port}/workspaces/ws-1234/api/v1/remote_write`);
      const body = new Uint8Array([1, 2, 3, 4, 5, 250]);
      const region = regionFromEnv(env) ?? '';
      const signer = new RequestSigner('aps', region, () => credentialsFromEnv(env));
      const headers = await signer.sign({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' },
        body,
      });
      expect(headers['x-amz-security-token']).toBe('token-1');
      const { host: _host, ...sendable } = headers;
      await fetch(url, { method: 'POST', headers: sendable, body });
      const req = received[0];
      const secrets = { ASIAEXAMPLE: env.AWS_SECRET_ACCESS_KEY };
      const verdict = verifySigV4(req, secrets);
      expect(verdict).toMatchObject({ ok: true, scope: expect.stringMatching(/\/eu-west-1\/aps\/aws4_request$/) });
      const tampered = Buffer.from(req.body);
      tampered[0] ^= 0xff;
      expect(verifySigV4({ ...req, body: tampered }, secrets)).toEqual({ ok: false, reason: 'signature mismatch' });
      expect(verifySigV4(req, { ASIAEXAMPLE: 'another-secret' })).toEqual({ ok: false, reason: 'signature mismatch' });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('refuses to sign without credentials', async () => {
    const signer = new RequestSigner('aps', 'eu-west-1', () => credentialsFromEnv({}));
    await expect(
      signer.sign({ method: 'POST', url: new URL('https://aps.example/'), headers: {}, body: new Uint8Array() }),
    ).rejects.toThrow(/AWS_ACCESS_KEY_ID/);
  });
});
