/**
 * The resource every signal of this function carries: the Lambda attributes
 * known from the environment (OpenTelemetry FaaS and cloud conventions), the
 * SDK's own attributes, then OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES,
 * which win. The account id is not in the environment; the invocation span
 * carries it and the extension adds it to the resource.
 */
import {
  defaultResource,
  detectResources,
  envDetector,
  type Resource,
  resourceFromAttributes,
} from '@opentelemetry/resources';

const BYTES_PER_MB = 1024 * 1024;

export function lambdaResourceAttributes(
  env: NodeJS.ProcessEnv = process.env,
  serviceName?: string,
): Record<string, string | number | string[]> {
  const attributes: Record<string, string | number | string[]> = {
    'cloud.provider': 'aws',
    'cloud.platform': 'aws_lambda',
  };
  const set = (key: string, value: string | number | string[] | undefined) => {
    if (value !== undefined && value !== '' && !(typeof value === 'number' && !Number.isFinite(value))) {
      attributes[key] = value;
    }
  };
  set('cloud.region', env.AWS_REGION || env.AWS_DEFAULT_REGION);
  set('faas.name', env.AWS_LAMBDA_FUNCTION_NAME);
  set('faas.version', env.AWS_LAMBDA_FUNCTION_VERSION);
  set('faas.instance', env.AWS_LAMBDA_LOG_STREAM_NAME);
  set(
    'faas.max_memory',
    env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ? Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE) * BYTES_PER_MB : undefined,
  );
  set('aws.log.group.names', env.AWS_LAMBDA_LOG_GROUP_NAME ? [env.AWS_LAMBDA_LOG_GROUP_NAME] : undefined);
  set('aws.log.stream.names', env.AWS_LAMBDA_LOG_STREAM_NAME ? [env.AWS_LAMBDA_LOG_STREAM_NAME] : undefined);
  set('service.name', serviceName || env.AWS_LAMBDA_FUNCTION_NAME);
  return attributes;
}

export function lambdaResource(
  extra: Readonly<Record<string, string | number | boolean>> = {},
  serviceName?: string,
  env: NodeJS.ProcessEnv = process.env,
): Resource {
  return defaultResource()
    .merge(resourceFromAttributes({ ...lambdaResourceAttributes(env, serviceName), ...extra }))
    .merge(detectResources({ detectors: [envDetector] }));
}
