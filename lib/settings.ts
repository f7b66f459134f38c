import type { Duration, Size } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { StoredSecret } from './stored-secret.js';

/** One typed setting: the extension's variable, its value as the extension reads it, and the prop it came from. */
export interface Setting {
  readonly value: string;
  /** The construct prop that set it, for error messages (e.g. `telemetry.bufferLimits.maxItems`). */
  readonly prop: string;
}

/** The extension's variables a construct writes, each with the prop it came from. */
export type Settings = Record<string, Setting>;

/** Collects settings; props left undefined write nothing, so the extension's default applies. */
export class SettingsBuilder {
  public readonly settings: Settings = {};

  constructor(private readonly propPrefix: string) {}

  public text(variable: string, prop: string, value: string | undefined): this {
    if (value !== undefined) this.settings[variable] = { value, prop: `${this.propPrefix}${prop}` };
    return this;
  }

  public number(variable: string, prop: string, value: number | undefined): this {
    return this.text(variable, prop, value === undefined ? undefined : String(value));
  }

  public flag(variable: string, prop: string, value: boolean | undefined): this {
    return this.text(variable, prop, value === undefined ? undefined : String(value));
  }

  public millis(variable: string, prop: string, value: Duration | undefined): this {
    return this.number(variable, prop, value?.toMilliseconds());
  }

  public bytes(variable: string, prop: string, value: Size | undefined): this {
    return this.number(variable, prop, value?.toBytes());
  }

  /** `name=value,...`, percent-encoded as the extension decodes it. */
  public pairs(variable: string, prop: string, value: { [name: string]: string } | undefined): this {
    const entries = Object.entries(value ?? {});
    const text = entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join(',');
    return this.text(variable, prop, value === undefined ? undefined : text);
  }

  /** The ARN of a stored secret, which `grantee` may then read. */
  public secret(variable: string, prop: string, value: StoredSecret | undefined, grantee: iam.IGrantable): this {
    value?.grantRead(grantee);
    return this.text(variable, prop, value?.arn);
  }

  public list(variable: string, prop: string, value: string[] | undefined): this {
    return this.text(variable, prop, value?.join(','));
  }
}

/** The plain environment of some settings. */
export function environmentOf(settings: Settings): { [name: string]: string } {
  return Object.fromEntries(Object.entries(settings).map(([name, setting]) => [name, setting.value]));
}
