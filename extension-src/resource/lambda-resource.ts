/**
 * The environment's Lambda resource as the extension learns it: environment
 * variables at start, the account id from the register response, the function
 * ARN from the first INVOKE. Keeps the encoded attributes cached so enriching
 * every received payload costs only the walk over its resources.
 */
import type { KeyValue } from '../otlp/types.js';
import { detectLambdaResource, type LambdaIdentity } from './detect.js';
import { encodeDetected, enrichPayload } from './enrich.js';

export class LambdaResource {
  private identity: LambdaIdentity = {};
  private detected: KeyValue[];
  private encoded: ReturnType<typeof encodeDetected>;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {
    this.detected = detectLambdaResource(env);
    this.encoded = encodeDetected(this.detected);
  }

  /** From the register response's `accountId` (header `Lambda-Extension-Accept-Feature: accountId`). */
  setAccountId(accountId: string | undefined): void {
    if (accountId && accountId !== this.identity.accountId) this.update({ ...this.identity, accountId });
  }

  /** From an INVOKE event's `invokedFunctionArn`; only the first one matters. */
  noteFunctionArn(arn: string | undefined): void {
    if (arn && !this.identity.functionArn) this.update({ ...this.identity, functionArn: arn });
  }

  attributes(): KeyValue[] {
    return this.detected;
  }

  /** Adds the missing Lambda attributes to an encoded OTLP request; returns it unchanged if it cannot be read. */
  enrich(bytes: Uint8Array): Uint8Array {
    try {
      return enrichPayload(bytes, this.encoded);
    } catch {
      return bytes;
    }
  }

  private update(identity: LambdaIdentity): void {
    this.identity = identity;
    this.detected = detectLambdaResource(this.env, identity);
    this.encoded = encodeDetected(this.detected);
  }
}
