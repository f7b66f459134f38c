/**
 * Names of the environment variables the constructs set on a function. The
 * extension reads the OBSERVED_* namespace (README, "Configuration"); the
 * function's own OpenTelemetry SDK keeps its OTEL_* defaults.
 */
export const ENV = {
  otlpEndpoint: 'OBSERVED_OTLP_ENDPOINT',
  otlpHeadersSecretArn: 'OBSERVED_OTLP_HEADERS_SECRET_ARN',
  remoteWriteUrl: 'OBSERVED_REMOTE_WRITE_URL',
  pushgatewayUrl: 'OBSERVED_PUSHGATEWAY_URL',
  openSearchEndpoint: 'OBSERVED_OPENSEARCH_ENDPOINT',
  openSearchIndex: 'OBSERVED_OPENSEARCH_INDEX',
  openSearchTracesIndex: 'OBSERVED_OPENSEARCH_TRACES_INDEX',
  openSearchSigv4Service: 'OBSERVED_OPENSEARCH_SIGV4_SERVICE',
  flush: 'OBSERVED_FLUSH',
  logLevel: 'OBSERVED_LOG_LEVEL',
  /** Lambda runs this script first; it sets the function's process up for telemetry (layer file). */
  execWrapper: 'AWS_LAMBDA_EXEC_WRAPPER',
} as const;

/** The layer's exec wrapper for functions the constructs did not bundle (`observe()`, `ObserveFunctions`). */
export const EXEC_WRAPPER_PATH = '/opt/observed-instrument';
