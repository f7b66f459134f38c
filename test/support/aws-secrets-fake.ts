/**
 * A local stand-in for the Secrets Manager and SSM JSON APIs as documented:
 * POST / with `X-Amz-Target` (secretsmanager.GetSecretValue,
 * AmazonSSM.GetParameter), `Content-Type: application/x-amz-json-1.1`, SigV4
 * signed for the service and region; answers `{"SecretString": ...}` or
 * `{"Parameter": {"Value": ...}}`, and errors as `{"__type", "message"}` with
 * the documented status codes (400 for ResourceNotFoundException,
 * AccessDeniedException, ParameterNotFound; 403 for signature problems).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySigV4 } from './sigv4-verifier.js';

export interface FakeCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly region: string;
}

export interface RecordedCall {
  readonly target: string;
  readonly body: Record<string, unknown>;
  readonly scope: string;
  readonly answered: number;
}

export class AwsSecretsFake {
  readonly secrets = new Map<string, string>();
  readonly parameters = new Map<string, string>();
  /** ARNs the caller may not read (AccessDeniedException). */
  readonly denied = new Set<string>();
  readonly calls: RecordedCall[] = [];
  /** Rejections before an operation ran (bad target, content type, signature), with the reason. */
  readonly rejected: string[] = [];
  /** Delay before answering, to test the caller's time limit. */
  delayMs = 0;
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly credentials: FakeCredentials,
  ) {}

  static async start(credentials: FakeCredentials): Promise<AwsSecretsFake> {
    let fake: AwsSecretsFake | undefined;
    const server = createServer((req, res) => fake?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    fake = new AwsSecretsFake(server, `http://127.0.0.1:${port}`, credentials);
    return fake;
  }

  /** Environment variables for a process that should call this fake. */
  env(): Record<string, string> {
    return {
      AWS_ACCESS_KEY_ID: this.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: this.credentials.secretAccessKey,
      AWS_SESSION_TOKEN: 'session-token',
      AWS_REGION: this.credentials.region,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: this.url,
      AWS_ENDPOINT_URL_SSM: this.url,
    };
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const reject = (status: number, type: string, message: string) => {
      this.rejected.push(`${type}: ${message}`);
      this.answer(res, status, { __type: type, message });
    };
    const target = String(req.headers['x-amz-target'] ?? '');
    const service =
      target === 'secretsmanager.GetSecretValue' ? 'secretsmanager' : target === 'AmazonSSM.GetParameter' ? 'ssm' : '';
    if (req.method !== 'POST' || req.url !== '/') return reject(404, 'UnknownOperationException', 'POST / expected');
    if (!service) return reject(400, 'UnknownOperationException', `unknown target "${target}"`);
    if (req.headers['content-type'] !== 'application/x-amz-json-1.1')
      return reject(400, 'SerializationException', `content type ${req.headers['content-type']}`);
    if (!req.headers['x-amz-security-token']) return reject(403, 'IncompleteSignature', 'no session token');
    const verdict = verifySigV4(
      { method: 'POST', rawUrl: req.url, headers: req.headers, body: raw },
      { [this.credentials.accessKeyId]: this.credentials.secretAccessKey },
    );
    if (!verdict.ok) return reject(403, 'InvalidSignatureException', verdict.reason);
    const expectedScope = `/${this.credentials.region}/${service}/aws4_request`;
    if (!verdict.scope.endsWith(expectedScope))
      return reject(403, 'InvalidSignatureException', `scope ${verdict.scope}, expected *${expectedScope}`);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      return reject(400, 'SerializationException', 'body is not JSON');
    }
    const [status, answer] = service === 'secretsmanager' ? this.getSecretValue(body) : this.getParameter(body);
    this.calls.push({ target, body, scope: verdict.scope, answered: status });
    this.answer(res, status, answer);
  }

  private getSecretValue(body: Record<string, unknown>): [number, object] {
    const id = String(body.SecretId ?? '');
    if (this.denied.has(id))
      return [400, { __type: 'AccessDeniedException', message: `not authorized to perform GetSecretValue on ${id}` }];
    const value = this.secrets.get(id);
    if (value === undefined)
      return [
        400,
        { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." },
      ];
    return [200, { ARN: id, Name: id.split(':').pop(), SecretString: value, VersionId: 'v1', CreatedDate: 1.7e9 }];
  }

  private getParameter(body: Record<string, unknown>): [number, object] {
    const name = String(body.Name ?? '');
    if (this.denied.has(name))
      return [
        400,
        { __type: 'AccessDeniedException', message: `not authorized to perform ssm:GetParameter on ${name}` },
      ];
    const value = this.parameters.get(name);
    if (value === undefined) return [400, { __type: 'ParameterNotFound', message: '' }];
    const shown = body.WithDecryption === true ? value : 'AQICAHencrypted';
    return [
      200,
      { Parameter: { Name: name, ARN: name, Type: 'SecureString', Value: shown, Version: 1, DataType: 'text' } },
    ];
  }

  private answer(res: ServerResponse, status: number, body: object): void {
    const text = JSON.stringify(body);
    const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1' };
    if (status >= 400 && '__type' in body) headers['x-amzn-errortype'] = String((body as { __type: string }).__type);
    res.writeHead(status, headers).end(text);
  }
}
