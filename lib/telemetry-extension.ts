import { type RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { constructError } from './errors.js';
import { packagedLayer } from './package-paths.js';
import { supportedNodeRuntimes } from './runtimes.js';

/** Properties of a {@link TelemetryExtension}. */
export interface TelemetryExtensionProps {
  /**
   * Name of the layer.
   * @default - a name CloudFormation generates
   */
  readonly layerVersionName?: string;

  /**
   * Accounts that may use the layer (`lambda:GetLayerVersion`), e.g. to share one layer across the accounts of a team.
   * @default - only this account
   */
  readonly shareWithAccounts?: string[];

  /**
   * An AWS Organizations organization (`o-...`) whose accounts may all use the layer.
   * @default - no organization
   */
  readonly shareWithOrganization?: string;

  /**
   * What happens to old layer versions when the layer changes or the stack is deleted.
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

const SINGLETON_ID = 'ObservedLambdaTelemetryExtension';

/**
 * The observed-lambda extension as a Lambda layer: the prebuilt bundle shipped
 * in this package (`dist/layer`), so an app needs neither Docker nor esbuild
 * for it and the asset hash only changes when the extension does. One bundle
 * serves every supported Node.js runtime on x86_64 and arm64.
 */
export class TelemetryExtension extends Construct {
  /** The layer shared by every observed function of the stack that holds `scope`. */
  public static of(scope: Construct): TelemetryExtension {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(SINGLETON_ID);
    if (existing instanceof TelemetryExtension) return existing;
    return new TelemetryExtension(stack, SINGLETON_ID);
  }

  /** The layer version. */
  public readonly layer: lambda.ILayerVersion;

  /** ARN of the layer version. */
  public readonly layerVersionArn: string;

  private readonly layerVersion: lambda.LayerVersion;
  private permissionCount = 0;

  constructor(scope: Construct, id: string, props: TelemetryExtensionProps = {}) {
    super(scope, id);
    this.layerVersion = new lambda.LayerVersion(this, 'Layer', {
      code: lambda.Code.fromAsset(packagedLayer()),
      layerVersionName: props.layerVersionName,
      description: 'observed-lambda: OpenTelemetry and Lambda platform telemetry exporter (extension)',
      compatibleRuntimes: supportedNodeRuntimes(),
      compatibleArchitectures: [lambda.Architecture.X86_64, lambda.Architecture.ARM_64],
      license: 'Apache-2.0',
      removalPolicy: props.removalPolicy,
    });
    this.layer = this.layerVersion;
    this.layerVersionArn = this.layerVersion.layerVersionArn;
    for (const account of props.shareWithAccounts ?? []) this.shareWithAccount(account);
    if (props.shareWithOrganization !== undefined) this.shareWithOrganization(props.shareWithOrganization);
  }

  /** Lets another account use the layer. */
  public shareWithAccount(accountId: string): void {
    if (!Token.isUnresolved(accountId) && !/^\d{12}$/.test(accountId)) {
      throw constructError(this, `TelemetryExtension: "${accountId}" is not an AWS account id (12 digits)`);
    }
    this.layerVersion.addPermission(`Share${this.permissionCount++}`, { accountId });
  }

  /** Lets every account of an AWS Organizations organization use the layer. */
  public shareWithOrganization(organizationId: string): void {
    if (!Token.isUnresolved(organizationId) && !/^o-[a-z0-9]{10,32}$/.test(organizationId)) {
      throw constructError(
        this,
        `TelemetryExtension: "${organizationId}" is not an organization id (o- followed by 10 to 32 characters)`,
      );
    }
    this.layerVersion.addPermission(`Share${this.permissionCount++}`, { accountId: '*', organizationId });
  }
}
