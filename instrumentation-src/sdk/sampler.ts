/**
 * The sampler OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG name (the
 * OpenTelemetry SDK environment variables), built here so the wrapper keeps a
 * handle on it: it asks the sampler about the new traces it starts
 * (../handler/platform-parent.ts). Same names, default
 * (`parentbased_always_on`) and ratio default (1) as the SDK.
 */
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { warnOnce } from '../log.js';

const DEFAULT = 'parentbased_always_on';

function ratio(env: NodeJS.ProcessEnv): number {
  const value = Number(env.OTEL_TRACES_SAMPLER_ARG);
  return env.OTEL_TRACES_SAMPLER_ARG?.trim() && value >= 0 && value <= 1 ? value : 1;
}

export function samplerFromEnvironment(env: NodeJS.ProcessEnv = process.env): Sampler {
  const name = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || DEFAULT;
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio(env));
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio(env)) });
    default:
      warnOnce(
        `sampler:${name}`,
        `OTEL_TRACES_SAMPLER: unknown sampler "${name}"; ${DEFAULT} is used (accepted: always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio).`,
      );
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}
