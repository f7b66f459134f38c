import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as ssm from 'aws-cdk-lib/aws-ssm';

/**
 * A credential the extension reads by ARN at start, from Secrets Manager or an SSM SecureString parameter, so
 * that nothing secret is in the function's environment. The function's role may read this one value (and
 * decrypt it with its customer managed key), nothing more.
 */
export abstract class StoredSecret {
  /** A Secrets Manager secret; `kms:Decrypt` is granted too when it has a customer managed key. */
  public static fromSecret(secret: secretsmanager.ISecret): StoredSecret {
    return new SecretsManagerSecret(secret);
  }

  /**
   * An SSM parameter (a SecureString; the extension reads it with decryption).
   * @param parameter the parameter
   * @param encryptionKey the customer managed key that encrypts it, if not the AWS managed `aws/ssm` key
   */
  public static fromParameter(parameter: ssm.IStringParameter, encryptionKey?: kms.IKey): StoredSecret {
    return new SsmParameter(parameter, encryptionKey);
  }

  /** The ARN the extension reads. */
  public abstract readonly arn: string;

  /** Lets `grantee` read the value: the one read action on this resource, plus `kms:Decrypt` on its key. */
  public abstract grantRead(grantee: iam.IGrantable): iam.Grant;
}

class SecretsManagerSecret extends StoredSecret {
  public readonly arn: string;
  constructor(private readonly secret: secretsmanager.ISecret) {
    super();
    this.arn = secret.secretFullArn ?? secret.secretArn;
  }
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    // A partial ARN (an imported secret by name) matches the full one only with the six-character suffix.
    const resource = this.secret.secretFullArn ?? `${this.secret.secretArn}-??????`;
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [resource],
    });
    this.secret.encryptionKey?.grantDecrypt(grantee);
    return grant;
  }
}

class SsmParameter extends StoredSecret {
  public readonly arn: string;
  constructor(
    private readonly parameter: ssm.IStringParameter,
    private readonly encryptionKey: kms.IKey | undefined,
  ) {
    super();
    this.arn = parameter.parameterArn;
  }
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['ssm:GetParameter'],
      resourceArns: [this.parameter.parameterArn],
    });
    this.encryptionKey?.grantDecrypt(grantee);
    return grant;
  }
}
