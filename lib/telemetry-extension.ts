import { Annotations, type RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { constructError } from './errors.js';
import { layerArchitectures, packagedLayer, packagedPortableLayer, requiredGlibcMinor } from './package-paths.js';
import {
  AL2023_GLIBC_MINOR,
  otherRuntimeReason,
  portableLayerRuntimes,
  supportedNodeRuntimes,
  unsupportedRuntimeReason,
} from './runtimes.js';

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
 * The observed-lambda extension as Lambda layers, prebuilt and shipped in this
 * package, so an app needs neither Docker nor esbuild for them and the asset
 * hash only changes when the extension does: `dist/layer` for the Node.js
 * runtimes (x86_64 and arm64), and `dist/layer-portable`, with the engine the
 * extension runs on, for runtimes without Node.js (Python, Java, .NET, Ruby,
 * `provided.al2023`), added to the stack when a function of one asks for it
 * ({@link TelemetryExtension.layerFor}).
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
  private portable: lambda.LayerVersion | undefined;
  private readonly shares: lambda.LayerVersionPermission[] = [];

  constructor(
    scope: Construct,
    id: string,
    private readonly props: TelemetryExtensionProps = {},
  ) {
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

  /**
   * The layer for a function of `runtime`: the Node.js layer for Node.js runtimes, the layer that brings
   * its own engine for Python, Java, .NET, Ruby and `provided.al2023` on Amazon Linux 2023. Runtimes of
   * those languages it does not list (added to Lambda later) get the same layer version without the list.
   */
  public layerFor(runtime: lambda.Runtime): lambda.ILayerVersion {
    if (runtime.family === lambda.RuntimeFamily.NODEJS) {
      const reason = unsupportedRuntimeReason(runtime);
      if (reason !== undefined) throw constructError(this, `TelemetryExtension.layerFor: ${reason}`);
      return this.layer;
    }
    const reason = otherRuntimeReason(runtime);
    if (reason !== undefined) throw constructError(this, `TelemetryExtension.layerFor: ${reason}`);
    const portable = this.portableLayer();
    if (portable.compatibleRuntimes?.some((r) => r.runtimeEquals(runtime))) return portable;
    const id = `PortableLayerFor${runtime.name.replace(/[^A-Za-z0-9]/g, '')}`;
    const existing = this.node.tryFindChild(id) as lambda.ILayerVersion | undefined;
    return existing ?? lambda.LayerVersion.fromLayerVersionArn(this, id, portable.layerVersionArn);
  }

  /** The layer for runtimes without Node.js, created with the first function that needs it. */
  private portableLayer(): lambda.LayerVersion {
    if (this.portable === undefined) {
      const dir = packagedPortableLayer();
      this.portable = new lambda.LayerVersion(this, 'PortableLayer', {
        code: lambda.Code.fromAsset(dir),
        layerVersionName: this.props.layerVersionName && `${this.props.layerVersionName}-portable`,
        description:
          'observed-lambda: OpenTelemetry and Lambda platform telemetry exporter (extension with its own engine, for runtimes without Node.js)',
        compatibleRuntimes: portableLayerRuntimes(),
        // The engine is native code: the layer serves the architectures it was built for.
        compatibleArchitectures: layerArchitectures(dir).map((a) =>
          a === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
        ),
        license: 'Apache-2.0',
        removalPolicy: this.props.removalPolicy,
      });
      for (const [i, share] of this.shares.entries()) this.portable.addPermission(`Share${i}`, share);
      const glibc = requiredGlibcMinor(dir);
      if (glibc !== undefined && glibc > AL2023_GLIBC_MINOR) {
        Annotations.of(this).addWarningV2(
          'observed-lambda:engine-glibc',
          `the engine in ${dir} needs glibc 2.${glibc}, newer than Amazon Linux 2023's 2.${AL2023_GLIBC_MINOR}: Lambda would fail to start the extension. Use a layer whose engine is built for glibc 2.${AL2023_GLIBC_MINOR} or older.`,
        );
      }
    }
    return this.portable;
  }

  /** Lets another account use the layer. */
  public shareWithAccount(accountId: string): void {
    if (!Token.isUnresolved(accountId) && !/^\d{12}$/.test(accountId)) {
      throw constructError(this, `TelemetryExtension: "${accountId}" is not an AWS account id (12 digits)`);
    }
    this.share({ accountId });
  }

  private share(permission: lambda.LayerVersionPermission): void {
    const i = this.shares.push(permission) - 1;
    this.layerVersion.addPermission(`Share${i}`, permission);
    this.portable?.addPermission(`Share${i}`, permission);
  }

  /** Lets every account of an AWS Organizations organization use the layer. */
  public shareWithOrganization(organizationId: string): void {
    if (!Token.isUnresolved(organizationId) && !/^o-[a-z0-9]{10,32}$/.test(organizationId)) {
      throw constructError(
        this,
        `TelemetryExtension: "${organizationId}" is not an organization id (o- followed by 10 to 32 characters)`,
      );
    }
    this.share({ accountId: '*', organizationId });
  }
}
