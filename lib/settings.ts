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

/**
 * What a destination adds to a function, its grants kept apart from its settings so that a function whose
 * settings the extension would refuse is granted nothing.
 */
export interface DestinationBinding {
  /** The extension's variables, each with the option it came from. */
  readonly settings: Settings;
  /** Grants what the extension needs to write to the destination. */
  grant(grantee: iam.IGrantable): void;
}

/** Collects settings; props left undefined write nothing, so the extension's default applies. */
export class SettingsBuilder {
  public readonly settings: Settings = {};
  /** The stored secrets whose ARNs are among the settings: the function must be able to read them. */
  public readonly secrets: StoredSecret[] = [];

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

  /** The ARN of a stored secret, remembered in `secrets` for the grant. */
  public secret(variable: string, prop: string, value: StoredSecret | undefined): this {
    if (value !== undefined) this.secrets.push(value);
    return this.text(variable, prop, value?.arn);
  }

  /** The settings, whose grant gives what `grantAccess` gives and read access to their secrets. */
  public binding(grantAccess?: (grantee: iam.IGrantable) => void): DestinationBinding {
    return {
      settings: this.settings,
      grant: (grantee) => {
        grantAccess?.(grantee);
        for (const secret of this.secrets) secret.grantRead(grantee);
      },
    };
  }

  public list(variable: string, prop: string, value: string[] | undefined): this {
    return this.text(variable, prop, value?.join(','));
  }
}

/** The plain environment of some settings. */
export function environmentOf(settings: Settings): { [name: string]: string } {
  return Object.fromEntries(Object.entries(settings).map(([name, setting]) => [name, setting.value]));
}
